"""The arguments and options of the commands that apply a saved run (evaluate, predict,
importance, info, serve, export): the run, the data, its encoding, the batch of rows."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import Annotated

import typer

from tabnet_cli.errors import TabnetError

RunArg = Annotated[
    str, typer.Argument(metavar="RUN", help="Run directory written by tabnet train.")
]
DataArg = Annotated[
    str, typer.Argument(metavar="DATA", help="CSV/TSV/parquet file, or - for stdin.")
]
BatchOpt = Annotated[
    int,
    typer.Option(min=1, metavar="ROWS", help="Rows read and scored at a time (bounds memory)."),
]
DataEncoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="NAME",
        help="Text encoding of DATA, e.g. utf-8, latin-1 [default: the run's, as trained].",
        show_default=False,
    ),
]


def load_for_data(run: str, data: str, encoding: str | None, warn: Callable[[str], None]):
    """The run, reading DATA with ``--encoding`` when given (else as its training file
    was read), with a warning when DATA looks like UTF-8 but the run reads another
    encoding (every category would be "unseen" otherwise, silently)."""
    from tabnet_cli.io.opening import looks_like_utf8  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.run.run_dir import load_run, with_encoding

    loaded = load_run(run)
    if encoding is not None:
        return with_encoding(loaded, encoding)
    trained = loaded.manifest.data_config.encoding
    if not _is_utf8(trained) and looks_like_utf8(data):
        warn(
            f"{data} looks like UTF-8 text, but this run reads its data as {trained} (the "
            "encoding it was trained with); if the file is UTF-8, add --encoding utf-8"
        )
    return loaded


def _is_utf8(encoding: str) -> bool:

    return codecs.lookup(encoding).name in ("utf-8", "utf-16", "utf-32")


def data_files(data: str) -> list[str]:
    """The files a DATA argument names (none for stdin, every file of a directory or
    glob), for refusing an output that is one of them; the reader reports a missing one.

    Example:
        >>> data_files("-"), data_files("new.csv")
        ([], ['new.csv'])
    """
    # not at start-up: tabnet --help stays light
    from tabnet_cli.io.datasets import is_dataset, table_files

    if data == "-":
        return []
    if not is_dataset(data):
        return [data]
    try:
        return table_files(data)
    except TabnetError:
        return []
