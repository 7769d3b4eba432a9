"""``python -m tabnet_cli``, and the ``tabnet`` console script.

The entry point lives here, in a module that imports nothing, so that a Ctrl-C while
Typer, rich and the commands are still importing ends like one at any other moment:
the line ``Interrupted`` and exit code 130, without a traceback.
"""

import sys

INTERRUPTED = 130


def main() -> None:
    """Runs ``tabnet`` with the process's arguments.

    Example (in a shell):
        python -m tabnet_cli --version
    """
    try:
        from tabnet_cli.cli import main as run  # not at start-up: tabnet --help stays light

        run()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        sys.exit(INTERRUPTED)


if __name__ == "__main__":
    main()
