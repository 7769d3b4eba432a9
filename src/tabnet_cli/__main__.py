"""Allows ``python -m tabnet_cli``."""

from tabnet_cli.cli import main

if __name__ == "__main__":
    main()
