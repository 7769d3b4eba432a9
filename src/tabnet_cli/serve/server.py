"""The HTTP side of ``tabnet serve``, on the standard library's ``ThreadingHTTPServer``:
one thread per connection, so a slow client holds only its own thread (and is dropped
after ``CLIENT_TIMEOUT`` seconds of silence); bodies are bounded before they are read.

Routes: ``GET /health``, ``GET /schema``, ``POST /predict``. Every answer is JSON;
every error is ``{"error": "one line"}`` with a 4xx status.
"""

from __future__ import annotations

import json
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tabnet_cli.serve.requests import RequestError
from tabnet_cli.serve.service import Service

CLIENT_TIMEOUT = 30.0  # seconds a client may stay silent mid-request
DEFAULT_MAX_BYTES = 16 * 2**20


class Handler(BaseHTTPRequestHandler):
    """One connection's requests; the server carries the service and the limits."""

    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
    timeout = CLIENT_TIMEOUT
    # headers and body leave in two writes: with Nagle's algorithm on, the body would wait
    # for the client's delayed ACK (40 ms a request on Linux)
    disable_nagle_algorithm = True
    server: TabnetServer

    def do_GET(self) -> None:  # noqa: N802 (the standard library's naming)
        routes = {"/health": lambda: {"status": "ok"}, "/schema": self.server.service.schema}
        if self.path in routes:
            self._send(HTTPStatus.OK, routes[self.path]())
        elif self.path == "/predict":
            self._error(RequestError(405, "use POST /predict with a JSON body"))
        else:
            self._error(
                RequestError(404, f"no route {self.path}; use /predict, /schema or /health")
            )

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/predict":
            self._error(
                RequestError(
                    404 if self.path not in ("/health", "/schema") else 405,
                    f"POST goes to /predict, not {self.path}",
                )
            )
            return
        try:
            self._send(HTTPStatus.OK, self.server.service.predict(self._body()))
        except RequestError as exc:
            self._error(exc)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise RequestError(411, "send the body with a Content-Length, not chunked")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RequestError(411, "send a Content-Length header with the JSON body")
        if int(length) > self.server.max_bytes:
            self.close_connection = True  # the unread body must not be parsed as a request
            raise RequestError(
                413,
                f"the body is {int(length)} bytes, above the limit of {self.server.max_bytes}; "
                "send fewer rows per request or raise --max-request-bytes",
            )
        return self.rfile.read(int(length))

    def _error(self, error: RequestError) -> None:
        self._send(error.status, {"error": error.message})

    def _send(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.access_log:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class TabnetServer(ThreadingHTTPServer):
    """A threading HTTP server holding one :class:`Service`."""

    daemon_threads = True  # Ctrl-C does not wait for idle keep-alive connections
    allow_reuse_address = True

    def __init__(self, address, service: Service, max_bytes: int, access_log: bool):
        self.service, self.max_bytes, self.access_log = service, max_bytes, access_log
        super().__init__(address, Handler)

    def handle_error(self, request, client_address) -> None:
        """A client that went away or fell silent (reset, broken pipe, timeout) is its own
        business; anything else is a bug worth its traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def make_server(
    service: Service,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_bytes: int = DEFAULT_MAX_BYTES,
    access_log: bool = False,
) -> TabnetServer:
    """A bound server (``port`` 0 picks a free one: see ``server.server_address``).

    Example:
        >>> server = make_server(Service(load_run("runs/diabetes")), port=0)  # doctest: +SKIP
        >>> server.serve_forever()  # doctest: +SKIP
    """
    return TabnetServer((host, port), service, max_bytes, access_log)
