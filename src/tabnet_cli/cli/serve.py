"""``tabnet serve``: a run answering JSON prediction requests over HTTP."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from tabnet_cli.cli.app import command
from tabnet_cli.cli.run_options import RunArg
from tabnet_cli.errors import TabnetError


@command()
def serve(
    run: RunArg,
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS", help="Address to listen on; 0.0.0.0 opens it to the network."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="TCP port; 0 picks a free one.")
    ] = 8000,
    max_request_bytes: Annotated[
        int,
        typer.Option(min=1, metavar="BYTES", help="Larger request bodies get 413."),
    ] = 16 * 2**20,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request on stderr.")
    ] = False,
) -> None:
    """Answer POST /predict (JSON records or columns), GET /schema and GET /health.

    Example: tabnet serve runs/red-wine --port 8000
    """
    # the run is loaded once, with NumPy alone: the serving process never imports torch
    from tabnet_cli.run.run_dir import load_run
    from tabnet_cli.serve.server import make_server
    from tabnet_cli.serve.service import Service

    service = Service(load_run(run))
    try:
        server = make_server(service, host, port, max_request_bytes, access_log)
    except OSError as exc:
        raise TabnetError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
            "or --host"
        ) from None
    bound_host, bound_port = server.server_address[:2]
    sys.stderr.write(
        f"serving {run} ({service.run.task}, target {service.run.target_name!r}) on "
        f"http://{bound_host}:{bound_port} - Ctrl-C stops\n"
    )
    sys.stderr.flush()
    previous = signal.signal(signal.SIGTERM, _stop)  # docker stop, systemd, kill
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt
