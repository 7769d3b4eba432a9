"""Writing results safely: run directories and ``-o`` files.

Rules (README, "Safety of run directories"):

- The place is checked before any work: parents are created and a probe file is written
  and removed, so a read-only or full disk fails in a second, not after training.
- Regular files (and new paths) are written to a temporary name beside them and renamed
  into place; a FIFO or a device (``-o /dev/stdout``) is written straight through; a
  symlink is followed and its target replaced, the link itself is kept.
- New files and directories get the modes ``cp`` and ``mkdir`` give (0666 and 0777 less
  the umask): the kernel applies the umask because we create them with those modes.
- Temporary names are ``.tabnet-tmp-<host>-<pid>-<random>-<name>``. One left by a
  process that was killed (its PID is gone on this host) is removed the next time tabnet
  writes into that directory.
- Every write failure becomes one :class:`OutputError` line naming the path.
- This is the only module that creates, opens for writing or renames files
  (``tests/test_outputs.py`` scans the code for other writers).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from tabnet_cli.errors import TabnetError

STDOUT = "<stdout>"  # how messages name standard output
STDOUT_ADVICE = "redirect the output elsewhere"
TEMP_PREFIX = ".tabnet-tmp-"
# A short tag of the host name: PIDs are only meaningful on the machine that wrote them
# (a directory may be shared over NFS or between containers).
HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TEMP_NAME = re.compile(r"\.tabnet-tmp-([0-9a-f]{6})-([0-9]+)-[0-9a-f]{8}-")
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)


class OutputError(TabnetError):
    """A result could not be written (read-only place, full disk, a file in the way)."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


def write_error(where: object, exc: OSError, advice: str) -> OutputError:
    """The one-line error for a failed write, with what to do next.

    Example:
        >>> str(write_error("runs/x", OSError(errno.ENOSPC, "No space left on device"),
        ...     "choose another --out"))
        'cannot write runs/x: No space left on device; free space or choose another --out'
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in _FULL:
        advice = f"free space or {advice}"
    return OutputError(f"cannot write {where}: {reason}; {advice}", str(where))


def temp_name(name: str) -> str:
    """A hidden temporary name for ``name``, recognisable as ours and carrying our PID.

    Example:
        >>> temp_name("out.csv").startswith(f".tabnet-tmp-{HOST}-{os.getpid()}-")
        True
    """
    return f"{TEMP_PREFIX}{HOST}-{os.getpid()}-{secrets.token_hex(4)}-{name}"


def create_file(path: Path) -> int:
    """Creates ``path`` (never an existing one) and returns its descriptor; the mode is
    0666 less the umask, as ``cp`` gives a new file."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def prepare_directory(directory: Path, advice: str, shown: Path | None = None) -> list[Path]:
    """Creates ``directory`` and its missing parents, then proves it writable with a probe
    file; errors name ``shown`` (what the user asked for). Returns the directories it
    created, to remove if the job fails.

    Example:
        >>> prepare_directory(Path("/proc/no/such/place"), "choose another --out")
        Traceback (most recent call last):
        ...
        tabnet_cli.io.outputs.OutputError: cannot write /proc/no/such/place: No such file ...
    """
    created: list[Path] = []
    try:
        for folder in reversed([directory, *directory.parents]):
            if folder.is_dir():
                continue
            if folder.exists() or folder.is_symlink():
                raise OSError(errno.ENOTDIR, f"{folder} is a file, not a directory")
            os.mkdir(folder, 0o777)  # the umask applies, as with mkdir(1)
            created.append(folder)
        probe = directory / temp_name("probe")
        os.close(create_file(probe))
        os.unlink(probe)
    except OSError as exc:
        remove_empty_dirs(created)
        raise write_error(shown or directory, exc, advice) from None
    return created


def remove_empty_dirs(created: list[Path]) -> None:
    """Removes directories this run created, deepest first, as long as they are empty."""
    for folder in reversed(created):
        try:
            os.rmdir(folder)
        except OSError:
            return  # something else was written there: keep it


def remove_stale_temps(directory: Path) -> list[str]:
    """Removes our temporary entries in ``directory`` whose writer is gone (killed before
    it could clean up); returns their names. Best effort: never fails.

    Example:
        >>> remove_stale_temps(Path("/nonexistent"))
        []
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or match[1] != HOST or _alive(int(match[2])):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, and someone else's
        return True
    return True


class GuardedWriter:
    """A text stream whose write errors become an :class:`OutputError` naming the
    destination (a closed pipe stays a ``BrokenPipeError``: it is not an error)."""

    def __init__(self, stream: TextIO, where: str, advice: str) -> None:
        self.stream, self.where, self.advice = stream, where, advice

    def write(self, text: str | bytes) -> int:
        try:
            return self.stream.write(text)  # type: ignore[arg-type]
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.where, exc, self.advice) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.where, exc, self.advice) from None


def guarded_stdout() -> GuardedWriter:
    """Standard output whose write errors (``> /dev/full``) are one-line errors."""

    return GuardedWriter(sys.stdout, STDOUT, STDOUT_ADVICE)


class ReaderGone(Exception):
    """Standard output's reader went away (``| head``): not an error, the command ends
    quietly. Not an ``OSError``, which Click would turn into a silent exit 1."""


class StdoutGuard:
    """``sys.stdout`` while a command runs (:func:`guard_stdout`): whoever writes (print,
    rich, Click's help), a failed write is an :class:`OutputError` naming standard output
    and a closed pipe is :class:`ReaderGone`. Everything else is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self.stream.write, text)

    def writelines(self, lines) -> None:
        self._guarded(self.stream.writelines, lines)

    def flush(self) -> None:
        self._guarded(self.stream.flush)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)

    @staticmethod
    def _guarded(call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise ReaderGone() from None
        except OSError as exc:
            raise write_error(STDOUT, exc, STDOUT_ADVICE) from None


@contextmanager
def guard_stdout() -> Iterator[StdoutGuard]:
    """Standard output guarded by :class:`StdoutGuard` for the block.

    Example:
        >>> with guard_stdout() as out:
        ...     print("hello")
        hello
    """

    previous = sys.stdout
    sys.stdout = guard = StdoutGuard(previous)  # type: ignore[assignment]
    try:
        yield guard
    finally:
        sys.stdout = previous


@contextmanager
def open_output(path: Path, advice: str, binary: bool = False) -> Iterator[GuardedWriter]:
    """Opens ``path`` for a text result (bytes with ``binary``): atomically for a regular
    or new file (the old content stays until the new one is complete), straight through
    for a FIFO or device, and through a symlink to its target. Write failures become
    one-line errors.

    Example:
        >>> import tempfile
        >>> with open_output(Path(tempfile.mkdtemp()) / "out.csv", "choose another -o") as out:
        ...     _ = out.write("a,b\\n")
    """
    try:
        info = os.stat(path)  # follows symlinks: the target is what gets written
    except (FileNotFoundError, NotADirectoryError):  # a new file: its place is checked below
        info = None
    except OSError as exc:
        raise write_error(path, exc, advice) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory; {advice}", str(path))
    if info is not None and not stat.S_ISREG(info.st_mode):
        with _opened(path, advice, binary) as handle:  # FIFO, terminal, /dev/stdout: no rename
            yield handle
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    with _atomic(target, path, info, advice, binary) as handle:
        yield handle


def _mode(binary: bool) -> dict:
    return {"mode": "wb"} if binary else {"mode": "w", "newline": ""}


@contextmanager
def _opened(path: Path, advice: str, binary: bool) -> Iterator[GuardedWriter]:
    try:
        stream = open(path, **_mode(binary))  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise write_error(path, exc, advice) from None
    with _writing(stream, str(path), advice) as writer:
        yield writer


@contextmanager
def _writing(stream, where: str, advice: str) -> Iterator[GuardedWriter]:
    """``stream`` guarded, flushed and closed: a failure while closing (the last bytes
    on a full device) is one error too, and never hides the error that came first."""
    writer = GuardedWriter(stream, where, advice)
    try:
        yield writer
        writer.flush()
    except BaseException:
        with suppress(OSError):  # the first error is the one to report
            stream.close()
        raise
    try:
        stream.close()
    except OSError as exc:
        raise write_error(where, exc, advice) from None


@contextmanager
def _atomic(
    target: Path, shown: Path, info: os.stat_result | None, advice: str, binary: bool
) -> Iterator[GuardedWriter]:
    prepare_directory(target.parent, advice, shown)
    remove_stale_temps(target.parent)
    staging = target.parent / temp_name(target.name)
    try:
        descriptor = create_file(staging)
        if info is not None:  # replacing a file keeps its permissions, as cp does
            os.fchmod(descriptor, stat.S_IMODE(info.st_mode))
    except OSError as exc:
        raise write_error(shown, exc, advice) from None
    try:
        with _writing(open(descriptor, **_mode(binary)), str(shown), advice) as writer:
            yield writer
        try:
            os.replace(staging, target)
        except OSError as exc:
            raise write_error(shown, exc, advice) from None
    except BaseException:  # an OSError of the caller's (reading, say) is not ours to name
        staging.unlink(missing_ok=True)
        raise


def write_new_file(path: Path, data: bytes) -> None:
    """Writes a file that must not exist yet (mode 0666 less the umask)."""
    with open(create_file(path), "wb") as handle:
        handle.write(data)


@contextmanager
def new_directory(out_dir: Path, advice: str) -> Iterator[Path]:
    """A hidden staging directory beside ``out_dir``, renamed to ``out_dir`` when the block
    ends, so that a failure or Ctrl-C never leaves half a directory; the rename refuses an
    ``out_dir`` that appeared meanwhile. A failed write is one :class:`OutputError`.

    Example:
        >>> import tempfile
        >>> place = Path(tempfile.mkdtemp()) / "run"
        >>> with new_directory(place, "choose another --out") as staging:
        ...     write_new_file(staging / "a.txt", b"a")
        >>> sorted(p.name for p in place.iterdir())
        ['a.txt']
    """
    prepare_directory(out_dir.parent, advice, shown=out_dir)
    remove_stale_temps(out_dir.parent)  # left by runs that were killed while saving
    staging = out_dir.parent / temp_name(out_dir.name)
    try:
        os.mkdir(staging, 0o777)  # the umask applies, as with mkdir(1)
        yield staging
        os.rename(staging, out_dir)  # atomic; fails if out_dir appeared meanwhile
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        if out_dir.exists():
            raise OutputError(f"{out_dir} appeared while saving; {advice}", str(out_dir)) from None
        raise write_error(out_dir, exc, advice) from None


def discard_stdout() -> None:
    """Points standard output at the null device, so that output that cannot be written
    (a full disk, a reader gone) is dropped instead of failing again at exit."""

    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real stream (a test runner's): nothing to flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
