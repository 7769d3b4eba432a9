"""Writing results safely (issue 9, items 1-4): the output place is checked before any
work, write failures are one line, ``-o`` writes through FIFOs and symlinks, modes follow
the umask, and temporary files of killed writers are cleaned up."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.io import outputs

TINY = "--layers 4 --epochs 1 --verbose 0"


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(outputs.TEMP_PREFIX))


def _never_read(monkeypatch) -> None:
    """Makes reading the training data fail loudly: the checks must come before it."""

    def read_source(*args, **kwargs):
        raise AssertionError("the data was read before the output place was checked")

    monkeypatch.setattr("tabnet_cli.jobs.train.read_source", read_source)


def test_out_below_a_regular_file_fails_before_reading_data(
    cli, regression_csv, tmp_path, monkeypatch
):
    _never_read(monkeypatch)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a directory\n")
    out = blocker / "runs" / "x"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(
        result,
        f"cannot write {out}: {blocker} is a file, not a directory; choose another --out",
    )
    assert blocker.read_text() == "not a directory\n"


def test_read_only_place_fails_before_reading_data_and_leaves_no_parents(
    cli, regression_csv, tmp_path, monkeypatch
):
    _never_read(monkeypatch)

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(outputs, "create_file", read_only)
    out = tmp_path / "new" / "deeper" / "run"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(result, f"cannot write {out}: Read-only file system; choose another --out")
    assert list(tmp_path.iterdir()) == [regression_csv]  # the parents it made are gone


def test_full_disk_while_saving_is_one_error_and_leaves_nothing(
    cli, regression_csv, tmp_path, monkeypatch
):
    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("tabnet_cli.run.run_dir.write_new_file", full_disk)
    out = tmp_path / "runs" / "x"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(
        result, f"cannot write {out}: No space left on device; free space or choose another --out"
    )
    assert not out.parent.exists()  # neither the run, its temporary, nor the parent it made


def test_full_disk_while_writing_predictions_keeps_the_old_file(
    cli, small_run, small_csv, tmp_path, monkeypatch
):
    class FullDisk:
        def __init__(self, descriptor, *args, **kwargs):
            os.close(descriptor)

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            return None

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

    target = tmp_path / "preds.csv"
    target.write_text("old\n")
    monkeypatch.setattr(outputs, "open", FullDisk, raising=False)
    result = cli("predict", small_run, small_csv, "-o", target)
    assert_user_error(
        result,
        f"cannot write {target}: No space left on device; free space or choose another --output",
    )
    assert target.read_text() == "old\n" and _temps(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_predict_to_a_full_stdout_is_one_error_line(small_run, small_csv):
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-m", "tabnet_cli", "predict", small_run, small_csv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert out.returncode == 2
    assert out.stderr == (
        "Error: cannot write <stdout>: No space left on device; "
        "free space or redirect the output elsewhere\n"
    )


def test_curves_output_onto_a_directory_or_below_a_file(cli, small_run, tmp_path):
    assert_user_error(
        cli("curves", small_run, "-o", tmp_path),
        f"cannot write {tmp_path}: it is a directory; choose another --output",
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_user_error(
        cli("curves", small_run, "-o", blocker / "plot.txt"),
        f"{blocker} is a file, not a directory; choose another --output",
    )


def test_predict_and_curves_write_through_a_fifo(cli, small_run, small_csv, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    commands = {
        "a,y\n": ["predict", small_run, small_csv, "--keep", "a", "-o", fifo],
        "epoch": ["curves", small_run, "--table", "-o", fifo],
    }
    for start, args in commands.items():
        received: list[str] = []
        # a daemon thread: should tabnet never open the pipe, the test fails instead of hanging
        reader = threading.Thread(target=_read_into, args=(fifo, received), daemon=True)
        reader.start()
        result = cli(*args)
        reader.join(timeout=30)
        assert result.exit_code == 0, result.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe, not a regular file
        assert received and received[0].lstrip().startswith(start), received


def _read_into(path: Path, received: list[str]) -> None:
    received.append(path.read_text())


def test_predict_through_a_symlink_replaces_the_target_and_keeps_the_link(
    cli, small_run, small_csv, tmp_path
):
    real = tmp_path / "data" / "preds.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = cli("predict", small_run, small_csv, "-o", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(pd.read_csv(real)) == len(pd.read_csv(small_csv))
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # an existing file keeps its mode, as cp


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_created_files_and_directories_follow_the_umask(cli, small_csv, tmp_path, umask):
    previous = os.umask(umask)
    try:
        run = cli.train(small_csv, "y", tmp_path / "runs" / "r", "--layers 4 --epochs 1")
        preds = tmp_path / "preds.csv"
        result = cli("predict", run, small_csv, "-o", preds)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    for directory in (run, run.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o777 & ~umask
    for file in [*run.iterdir(), preds]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask, file.name


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from tabnet_cli.io.outputs import temp_name
where = Path(sys.argv[1])
staging = where / temp_name("run")
staging.mkdir()
(staging / "model.json").write_text("{")
(where / temp_name("preds.csv")).write_text("half a row")
print("ready", flush=True)
time.sleep(60)
"""


def test_temporary_files_of_killed_writers_are_removed_on_the_next_write(
    cli, small_run, small_csv, tmp_path
):
    where = tmp_path / "out"
    where.mkdir()
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, where], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline() == "ready\n"
    writer.send_signal(signal.SIGKILL)  # as the OOM killer or `kill -9` would
    writer.wait()
    assert len(_temps(where)) == 2
    live = where / outputs.temp_name("mine.csv")  # this process is alive: kept
    live.write_text("")
    others = [where / ".tabnet-tmp-notours", where / ".preds.csv.abc123"]
    for path in others:
        path.write_text("")
    result = cli("predict", small_run, small_csv, "-o", where / "preds.csv")
    assert result.exit_code == 0, result.stderr
    assert _temps(where) == sorted([live.name, others[0].name])
    assert all(path.exists() for path in others)


def test_a_killed_save_is_cleaned_up_by_the_next_train(cli, small_csv, tmp_path):
    stale = tmp_path / f".tabnet-tmp-{outputs.HOST}-{_dead_pid()}-0123abcd-run"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    cli.train(small_csv, "y", tmp_path / "run", "--layers 4 --epochs 1")
    assert not stale.exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- every file a command writes goes through io/outputs.py --------------------------------

SOURCE = Path(__file__).resolve().parent.parent / "src" / "tabnet_cli"
OUTPUT_MODULE = SOURCE / "io" / "outputs.py"
# Calls that write, create, rename or replace files or directories, whatever their object.
WRITING_METHODS = {
    "write_text", "write_bytes", "mkstemp", "mkdtemp", "NamedTemporaryFile",
    "TemporaryFile", "SpooledTemporaryFile", "mkdir", "makedirs", "mkfifo", "symlink_to",
    "hardlink_to", "touch", "save", "save_file", "save_model", "savez", "savez_compressed",
    "savetxt", "write_table", "copyfile", "copy2", "copytree", "move",
}  # fmt: skip
# pandas' writers write when given a place (``to_json()`` alone returns text)
TO_PLACE = {"to_csv", "to_parquet", "to_feather", "to_json", "to_pickle", "to_excel"}
MODULES_WITH_OPEN = {"gzip", "bz2", "lzma", "io", "codecs", "builtins", "tarfile", "zipfile"}
# os.X / shutil.X calls that write (``os.replace``, not ``str.replace``)
WRITING_FUNCTIONS = {
    "os": {"replace", "rename", "renames", "open", "mkdir", "makedirs", "mkfifo", "link",
           "symlink", "truncate", "ftruncate", "dup2"},
    "shutil": {"move", "copy", "copy2", "copyfile", "copytree"},
}  # fmt: skip
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"}
# (module, line text) -> why it is not a writer
ALLOWED = {
    ("run/run_dir.py", "WEIGHTS: save(tensors,"): (
        "safetensors.torch.save returns the file's bytes; outputs.write_new_file writes them"
    ),
    ("io/csv_write.py", "frame.to_csv(stream,"): (
        "writes to the stream it is given: outputs.open_output's, or standard output"
    ),
    ("io/csv_write.py", "frame.head(0).to_csv(stream,"): "the same, for the header alone",
    ("system/distributed.py", 'with open(os.path.join(folder, f"rank-{rank.rank}"), "w"'): (
        "a rank's error message in the launcher's private temporary folder; system/ sits "
        "below io/, and the file is never a user's output"
    ),
}


def _writers(path: Path) -> list[tuple[int, str]]:
    import ast

    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else None
        )
        if owner in WRITING_FUNCTIONS:
            writes = name in WRITING_FUNCTIONS[owner] and not _reads(node, 1, flags=True)
        elif name == "open" and owner and owner[0].isupper():
            writes = False  # a class's own reader, such as BlockSource.open(source)
        elif name == "open":  # open(), gzip.open(p, mode), Path.open(mode): by the mode
            method = isinstance(func, ast.Attribute) and owner not in MODULES_WITH_OPEN
            writes = not _reads(node, 0 if method else 1)
        elif name in TO_PLACE:  # to_csv(place), to_parquet(place); to_parquet(None) is bytes
            place = node.args[0] if node.args else None
            given = place is not None and not (
                isinstance(place, ast.Constant) and place.value is None
            )
            writes = given or bool(node.keywords and node.keywords[0].arg == "path_or_buf")
        else:
            writes = name in WRITING_METHODS
        if writes:
            found.append((node.lineno, ast.get_source_segment(path.read_text(), node) or name))
    return found


def _reads(call, position: int, flags: bool = False) -> bool:
    """Whether a call opens for reading only: its mode (or os.open flags) says so."""
    import ast

    mode = next((k.value for k in call.keywords if k.arg in ("mode", "flags")), None)
    if mode is None and len(call.args) > position:
        mode = call.args[position]
    if mode is None:
        return not flags  # open() without a mode reads; os.open without flags is odd
    if flags:  # os.open(path, os.O_RDONLY | os.O_NONBLOCK): the flags named in it
        named = {n.attr for n in ast.walk(mode) if isinstance(n, ast.Attribute)}
        return "O_RDONLY" in named and not named & WRITE_FLAGS
    return isinstance(mode, ast.Constant) and not set(str(mode.value)) & set("wax+")


def test_only_the_output_module_writes_files():
    """Writers outside io/outputs.py bypass its rules (FIFOs written through, symlinks
    followed, umask modes, atomic renames, one-line errors): there must be none."""
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path == OUTPUT_MODULE:
            continue
        module = path.relative_to(SOURCE).as_posix()
        lines = path.read_text().splitlines()
        for lineno, call in _writers(path):
            line = lines[lineno - 1].strip()
            if not any(m == module and line.startswith(text) for m, text in ALLOWED):
                offenders.append(f"{module}:{lineno}: {call.splitlines()[0]}")
    assert offenders == []


def test_the_writer_scan_finds_writers(tmp_path):
    """The scan itself: each kind of writer is found, reading is not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os, shutil, onnx\n"
        "open(p, 'w')\nopen(p, mode='ab')\nopen(p)\nopen(p, 'rb')\npath.open('w')\n"
        "path.write_text('x')\nos.replace(a, b)\nos.open(p, os.O_WRONLY)\n"
        "os.open(p, os.O_RDONLY | os.O_NONBLOCK)\nonnx.save(model, p)\nshutil.move(a, b)\n"
        "text.replace('a', 'b')\nframe.rename(columns={})\ngzip.open(p, 'rb')\n"
        "gzip.open(p, 'wt')\nframe.to_json()\nframe.to_csv('out.csv')\n"
    )
    assert [line for line, _ in _writers(sample)] == [2, 3, 6, 7, 8, 9, 11, 12, 16, 18]


def test_export_writes_through_a_fifo_and_a_symlink_to_a_device(cli, small_run, tmp_path):
    """``export -o`` follows the rules of every output: a FIFO is written through, a
    symlink is followed (to a device here, as ``-o /dev/null`` is), a new file has the
    umask's mode; it used to rename a 0600 temporary file over all three."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = cli("export", small_run, "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert onnx.load_from_string(received[0]).graph.output[0].name == "prediction"

    link = tmp_path / "sink.onnx"
    link.symlink_to(os.devnull)
    result = cli("export", small_run, "-o", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)

    previous = os.umask(0o022)
    try:
        result = cli("export", small_run, "-o", tmp_path / "new" / "model.onnx")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "new" / "model.onnx").stat().st_mode) == 0o644
    assert _temps(tmp_path / "new") == []
