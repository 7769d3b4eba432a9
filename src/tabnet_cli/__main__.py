"""``python -m tabnet_cli``, and the ``tabnet`` console script.

The entry point lives here, in a module that imports nothing, so that a Ctrl-C while
Typer, rich and the commands are still importing ends like one at any other moment:
the line ``Interrupted`` and exit code 130, without a traceback.
"""

import os
import sys

INTERRUPTED = 130


def main() -> None:
    """Runs ``tabnet`` with the process's arguments.

    Example (in a shell):
        python -m tabnet_cli --version
    """
    try:
        from tabnet_cli.cli import main as run  # here, so a Ctrl-C while importing is one too

        run()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        _exit(INTERRUPTED)
    except SystemExit as done:
        _exit(done.code)


def _exit(code) -> None:
    """Ends the process with ``code``. A torchrun rank ends at once, its output flushed:
    its work is saved and reported, and the C++ threads of the process group, torn down
    by the interpreter's exit, can abort the process ("terminate called without an active
    exception"), which torchrun would report as a failed run."""
    if "TORCHELASTIC_RUN_ID" in os.environ and "RANK" in os.environ:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)
    sys.exit(code)


if __name__ == "__main__":
    main()
