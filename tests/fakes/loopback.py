"""The HTTP side of the provider fakes: a threaded server on a free 127.0.0.1 port that hands
each request to the fake's `handle` and writes its answer (JSON, or a file's bytes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from typing_extensions import override


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # JSON, or the bytes of a file served at a download URL
    content_type: str = "application/json"


Handle = Callable[[str, str, bytes, Mapping[str, str]], Answer]


def _handler_for(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = handle(method, self.path, raw, headers)
            body = answer.body
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        @override
        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the test output should not fill with access logs."""

    return Handler


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 1024  # a burst of sends at once: the default backlog of 5 drops them
    daemon_threads = True

    @override
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here, not an error to print."""


@contextmanager
def serving(handle: Handle) -> Iterator[str]:
    """Serve `handle` until the block ends; yields the origin, `http://127.0.0.1:<port>`."""
    server = _QuietServer(("127.0.0.1", 0), _handler_for(handle))
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
