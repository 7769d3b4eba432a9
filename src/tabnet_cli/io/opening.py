"""Opening a source for reading: a path or ``-`` (stdin) as a binary stream, its first
bytes peeked for sniffing, and the column names and cells shaped as the user sees them
(whichever parser read them)."""

from __future__ import annotations

import codecs
import errno
import gzip
import io
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tabnet_cli.errors import DataError
from tabnet_cli.io.csv_format import SNIFF_BYTES, CsvFormat, refuse_duplicates
from tabnet_cli.io.csv_parse import READ_ERRORS, clean_cells, damaged, refuse_decimal_commas
from tabnet_cli.io.read_options import ReadOptions

if TYPE_CHECKING:
    import pandas as pd


def open_source(source: str) -> tuple[str, BinaryIO]:
    """Opens a path or ``-`` (stdin) as a binary stream; returns (display name, stream).
    A named pipe is read as a stream, as stdin is."""
    if source == "-":
        return "<stdin>", sys.stdin.buffer
    check_source(source, need_file=False)
    try:
        return source, Path(source).open("rb")
    except OSError as exc:
        raise DataError(f"{source}: cannot read it ({exc.strerror or exc})") from None


def check_source(source: str, need_file: bool = True) -> None:
    """Refuses, in one line that says what it is, a DATA path that is not a file to read:
    missing, a symlink loop or a dangling link, a directory, a device (``/dev/zero``),
    or a named pipe where the whole file is read more than once (training: ``need_file``).

    Example:
        >>> check_source("/dev/zero")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: /dev/zero is a device, not a data file; give a CSV ...
    """
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        if os.path.islink(source):
            target = os.readlink(source)
            raise DataError(f"{source} is a symlink to {target}, which does not exist") from None
        raise DataError(f"{source}: no such file; check the path") from None
    except OSError as exc:  # ELOOP, EACCES, ENOTDIR...
        if exc.errno == errno.ELOOP:
            raise DataError(f"{source} is a symlink loop; check the path") from None
        raise DataError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise DataError(f"{source} is a directory; give a CSV or parquet file")
    if stat.S_ISFIFO(mode) and not need_file:
        return
    if stat.S_ISFIFO(mode):
        raise DataError(
            f"{source} is a named pipe, which can be read only once; training reads its data "
            f"file more than once: save it to a file, or give it as standard input: - < {source}"
        )
    raise DataError(f"{source} is a device, not a data file; give a CSV or parquet file")


def is_stream(source: str) -> bool:
    """Whether ``source`` can be read only once (stdin, a named pipe): such a source is
    read by one parser from start to end, never reopened.

    Example:
        >>> is_stream("-"), is_stream("sample_data/diabetes.csv")
        (True, False)
    """
    try:
        return source == "-" or not stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def looks_like_utf8(source: str) -> bool:
    """Whether a regular file's first bytes are UTF-8 text with characters beyond ASCII
    (which a latin-1 or cp1252 reader would turn into other characters). Never reads
    stdin or a pipe, whose bytes cannot be read twice; never fails.

    Example:
        >>> looks_like_utf8("sample_data/diabetes.csv")  # ASCII only: either reading agrees
        False
    """

    try:
        if not Path(source).is_file():
            return False
        name, stream = open_source(source)
        head, stream = peek(name, stream)
        stream.close()
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except (DataError, OSError, ValueError):
        return False
    return not head.isascii()


def peek(name: str, stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """Reads the first bytes to sniff, returning a stream that still yields everything."""
    owned = [stream]  # closed with the returned stream (GzipFile leaves its file open)
    if name.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        owned.insert(0, stream)
    try:
        head = stream.read(SNIFF_BYTES)
    except READ_ERRORS as exc:
        for handle in owned:
            handle.close()
        raise DataError(damaged(name, exc)) from None
    rest = io.BufferedReader(_Chain(head, stream, owned))  # type: ignore[arg-type]
    return head, rest


class _Chain(io.RawIOBase):
    """A raw stream that replays already-read bytes, then continues with the source."""

    def __init__(self, head: bytes, tail: BinaryIO, owned: list):
        self._head = head
        self._tail = tail
        self._owned = owned

    def close(self) -> None:
        if not self.closed:
            for handle in self._owned:
                if handle is not sys.stdin.buffer:
                    handle.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._tail.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def shape_frame(
    frame: pd.DataFrame, name: str, form: CsvFormat | None, options: ReadOptions
) -> pd.DataFrame:
    """Column names as the user sees them (stripped; ``Unnamed: 3`` for an empty one, as
    pandas names it, whichever parser read the file; ``V1..Vn`` without a header), then
    cleaned cells for a CSV (``form``)."""
    if not options.header and not options.names and form is not None:
        frame.columns = [f"V{i + 1}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(frame.columns)]
    refuse_duplicates(list(frame.columns), name)
    if form is not None:
        frame = clean_cells(frame, form.markers, options.decimal, options.text)
        if options.decimal == "." and form.sep != ",":
            refuse_decimal_commas(frame, name)
    return frame
