"""Parquet files: the plain columns a model can use, and one error line for a broken file."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from tabnet_cli.errors import DataError, short_list
from tabnet_cli.io.csv_parse import first_line

if TYPE_CHECKING:
    import pandas as pd


def parquet_columns(parquet, name: str) -> tuple[list[str], list[str]]:
    """(plain, nested) column names of a ``pyarrow.parquet.ParquetFile``; lists, structs
    and maps are not model inputs, and a file of nothing else is an error."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    schema = parquet.schema_arrow
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    plain = [f.name for f in schema if not pa.types.is_nested(f.type)]
    if nested and not plain:
        raise DataError(
            f"{name} has only nested columns (lists, structs or maps): "
            f"{short_list(nested)}; give a table with plain columns"
        )
    return plain, nested


def decimals_as_floats(table):
    """A ``pyarrow.Table`` with its decimal columns as float64: numbers to the model, as
    a CSV's numbers are (pandas would give ``Decimal`` objects, which read as labels).

    Example:
        >>> import decimal, pyarrow as pa
        >>> table = pa.table({"d": pa.array([decimal.Decimal("1.5")], pa.decimal128(4, 1))})
        >>> decimals_as_floats(table).column("d").to_pylist()
        [1.5]
    """
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    for position, field in enumerate(table.schema):
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_decimal(kind):
            floats = table.column(position).cast(kind).cast(pa.float64())
            table = table.set_column(position, pa.field(field.name, pa.float64()), floats)
    return table


@contextmanager
def parquet_errors(name: str):
    """A broken parquet file is one DataError line; pyarrow's Ctrl-C stays a Ctrl-C."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    try:
        yield
    except DataError:
        raise
    except pa.ArrowCancelled:  # pyarrow's form of Ctrl-C: keep it one
        raise KeyboardInterrupt from None
    except Exception as exc:  # pyarrow and pandas raise many types for a broken file
        raise DataError(f"{name}: cannot read parquet ({first_line(exc)})") from None


def read_parquet(name: str, stream: BinaryIO, notices: list[str] | None) -> pd.DataFrame:
    """Reads the columns a model can use: lists, structs and maps are left out, named."""
    import pyarrow.parquet as pq  # pyarrow loads on first use, not with this module

    with parquet_errors(name), stream:
        parquet = pq.ParquetFile(stream)
        plain, nested = parquet_columns(parquet, name)
        table = parquet.read(columns=plain if nested else None, use_pandas_metadata=True)
        frame = decimals_as_floats(table).to_pandas()
    if nested and notices is not None:
        notices.append(
            f"ignored nested column(s) in {name} (lists, structs and maps are not model "
            f"inputs): {short_list(nested)}"
        )
    return frame
