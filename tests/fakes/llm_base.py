"""Loopback plumbing shared by the fake LLM servers: a real HTTP server, scripted replies, a log."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

JSON = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # names lower-cased
    body: JSON

    @property
    def raw(self) -> str:
        """The body as sent, for "this text never appears anywhere in the request" checks."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass(frozen=True)
class FakeResponse:
    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep first: longer than the client timeout means a hang


# A responder gets the parsed request body and decides the answer; a plain str means "reply
# with this text" in the API's own success shape.
Responder = Callable[[JSON], "FakeResponse | str"]


class RateLimit:
    """A responder: the provider refuses every call for a rate limit until `seconds` after the
    first one it refused, then `then` answers. `refusal(seconds_left)` is the API's own error
    response; `refused` counts the calls that reached the fake meanwhile."""

    def __init__(
        self, refusal: Callable[[float], FakeResponse], *, seconds: float, then: Responder
    ) -> None:
        self._refusal = refusal
        self._seconds = seconds
        self._then = then
        self._lock = threading.Lock()
        self._until: float | None = None
        self.refused = 0

    def __call__(self, body: JSON) -> FakeResponse | str:
        now = time.monotonic()
        with self._lock:
            if self._until is None:
                self._until = now + self._seconds
            refuse = now < self._until
            if refuse:
                self.refused += 1
            left = self._until - now
        return self._refusal(left) if refuse else self._then(body)


class _BurstServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of customers makes hundreds of model
    # calls at once, and the kernel would drop the connections past the backlog.
    request_queue_size = 1024


class FakeLLMServer:
    """Subclasses route and validate; this class serves, records and plays the script."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.responder: Responder = self.default_responder
        self._script: deque[Responder] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- to be provided by each API -------------------------------------------------------
    def base_path(self) -> str:
        raise NotImplementedError

    def route(self, request: RecordedRequest) -> FakeResponse:
        raise NotImplementedError

    def default_responder(self, body: JSON) -> FakeResponse | str:
        raise NotImplementedError

    def text_response(self, text: str, body: JSON) -> FakeResponse:
        raise NotImplementedError

    # --- scripting -------------------------------------------------------------------------
    def queue(self, responder: Responder, *, count: int = 1) -> None:
        """Answer the next `count` valid requests with `responder`, then fall back."""
        with self._lock:
            self._script.extend([responder] * count)

    def queue_response(self, response: FakeResponse, *, count: int = 1) -> None:
        self.queue(lambda _body: response, count=count)

    def queue_hang(self, seconds: float, text: str = "too late") -> None:
        """Sleep `seconds` before answering: drives the client's timeout."""
        self.queue(lambda body: _delayed(self.text_response(text, body), seconds))

    def answer(self, body: JSON) -> FakeResponse:
        with self._lock:
            responder = self._script.popleft() if self._script else self.responder
        answer = responder(body)
        return self.text_response(answer, body) if isinstance(answer, str) else answer

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def bodies(self) -> list[JSON]:
        return [request.body for request in self.requests]

    @property
    def last_body(self) -> JSON:
        return self.requests[-1].body

    # --- serving ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.base_path()}"

    def start(self) -> Self:
        self._server = _BurstServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True  # a hanging answer must not block shutdown
        # A short poll interval keeps shutdown (one per test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _delayed(response: FakeResponse, seconds: float) -> FakeResponse:
    return FakeResponse(response.status, response.body, response.headers, seconds)


def _read(handler: BaseHTTPRequestHandler) -> RecordedRequest:
    """The whole request (content-length bytes are read before answering, 3.1.1)."""
    length = int(handler.headers.get("content-length") or 0)
    raw = handler.rfile.read(length) if length else b""
    try:
        body = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        body = {"__invalid_json__": raw.decode("utf-8", "replace")}
    parts = urlsplit(handler.path)
    return RecordedRequest(
        method=handler.command,
        path=parts.path,
        query=parts.query,
        headers={name.lower(): value for name, value in handler.headers.items()},
        body=body if isinstance(body, dict) else {"__not_an_object__": body},
    )


def _handler_for(fake: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            request = _read(self)
            with fake._lock:
                fake.requests.append(request)
            self._send(fake.route(request))

        def _send(self, response: FakeResponse) -> None:
            if response.delay:
                time.sleep(response.delay)
            payload = json.dumps(response.body).encode()
            try:
                self.send_response(response.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test); nothing to answer

        do_POST = _serve  # noqa: N815 - the stdlib dispatches on these names
        do_GET = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean

    return Handler


_PLACE_AFTER_PREPOSITION = re.compile(
    r"\b(?:in|em|en|near|at)\s+([A-ZÀ-Ý][\w'-]+(?:\s+(?:de|da|do|del)?\s*[A-ZÀ-Ý][\w'-]+)*)"
)


def naive_search_arguments(text: str) -> JSON:
    """Deliberately simple: a capitalised place after 'in'/'em'/'en' becomes the location."""
    match = _PLACE_AFTER_PREPOSITION.search(text)
    return {"location": match.group(1)} if match else {}
