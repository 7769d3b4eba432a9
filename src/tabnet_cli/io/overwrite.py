"""Outputs that would destroy an input: ``tabnet predict RUN in.csv -o in.csv`` would
replace the data it reads, ``-o RUN/model.json`` the run. Refused before any work."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from tabnet_cli.io.outputs import OutputError


def refuse_inputs(
    output: Path,
    option: str,
    files: Iterable[str | Path] = (),
    directories: Iterable[str | Path] = (),
) -> None:
    """Refuses an output that would destroy an input of the command: one of the input
    ``files`` (the same file: same device and inode, whatever the path), or any path
    inside one of the input ``directories`` (the run directory being read), symlinks
    followed. Checked before any work.

    Example:
        >>> refuse_inputs(Path("runs/x/model.json"), "--output", directories=["runs/x"])
        Traceback (most recent call last):
        ...
        tabnet_cli.io.outputs.OutputError: --output runs/x/model.json is inside ...
    """
    advice = f"choose another {option}"
    where = Path(os.path.realpath(output))
    for directory in directories:
        inside = Path(os.path.realpath(directory))
        if where == inside or inside in where.parents:
            raise OutputError(
                f"{option} {output} is inside {directory}, which this command reads; "
                f"writing there could destroy it; {advice}",
                str(output),
            )
    target = _regular_file(output)
    if target is None:
        return
    for file in files:
        source = _regular_file(file)
        if (
            source is not None
            and source.st_ino == target.st_ino
            and (source.st_dev == target.st_dev)
        ):
            same = "" if Path(file) == output else f" (the same file as {file})"
            raise OutputError(
                f"{option} {output} is an input of this command{same}: writing it would "
                f"destroy the input; {advice}",
                str(output),
            )


def _regular_file(path: str | Path) -> os.stat_result | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info if stat.S_ISREG(info.st_mode) else None
