"""A fake Green API: a real HTTP server on 127.0.0.1 speaking the wire format of docs/providers.md,
G1, G8, G9.

It runs in a daemon thread, so sync and async tests (and the real httpx client) use it alike.
Every request is recorded; failures and delays can be programmed for the next requests.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from typing_extensions import override

MAX_MESSAGE_LENGTH = 20_000
CHAT_ID_FORMAT_ERROR = (
    "'chatId' must be one of the next formats: 'phone_number@c.us' or 'group_id@g.us'"
)
_CHAT_ID = re.compile(r"\d+@c\.us|[\d-]+@g\.us|\d+@lid")
_PATH = re.compile(r"/waInstance(?P<instance>[^/]*)/(?P<method>[^/]+)/(?P<token>[^/?]*)")
_SEND_FIELDS = frozenset(
    {"chatId", "message", "quotedMessageId", "linkPreview", "typingTime", "typePreview"}
)
# Reference 3.2: the body a used-up Developer plan answers with (status 466).
QUOTA_EXCEEDED_BODY: dict[str, Any] = {
    "invokeStatus": {"method": "sendmessage", "used": 67, "total": 0, "status": "QUOTE_ALLOWED"},
    "correspondentsStatus": {
        "method": "correspondents",
        "used": 3,
        "total": 3,
        "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
        "description": "Monthly quota has been exceeded. You can only send or receive messages "
        "from these numbers: 447700900123, 351912345678, 4915112345678",
    },
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # holds the token, as the real URL does
    json: Any  # the decoded body, or None when there was none or it was not JSON
    headers: dict[str, str]  # names lower-cased


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any


class FakeGreenAPI:
    """One Green API instance: its id, its token, its state, and a log of what it was asked."""

    def __init__(self, id_instance: str, token: str) -> None:
        self.id_instance = id_instance
        self.token = token
        self.state_instance = "authorized"
        self.base_url = ""
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._sent: list[dict[str, Any]] = []
        self._failures: deque[_Answer] = deque()
        self._delays: deque[float] = deque()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the sendMessage calls that were accepted (answered 200)."""
        with self._lock:
            return list(self._sent)

    def fail_next(self, status: int, count: int = 1, body: Any = None) -> None:
        """Answer the next `count` requests with `status` (and `body`) before any validation."""
        answer = _Answer(status, body if body is not None else {"message": f"fake {status}"})
        with self._lock:
            self._failures.extend([answer] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next `count` requests for `seconds` before handling them as usual.

        A client that times out meanwhile has still had its request executed: the ambiguous
        send of docs/providers.md, G9.
        """
        with self._lock:
            self._delays.extend([seconds] * count)

    def handle(self, method: str, path: str, raw: bytes, headers: Mapping[str, str]) -> _Answer:
        body = _decode(raw)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, body, dict(headers)))
            delay = self._delays.popleft() if self._delays else 0.0
            failure = self._failures.popleft() if self._failures else None
        if delay:
            time.sleep(delay)
        if failure is not None:
            return failure
        return self._route(method, path, raw, body)

    def _route(self, method: str, path: str, raw: bytes, body: Any) -> _Answer:
        match = _PATH.fullmatch(path.split("?", 1)[0])
        if match is None:
            return _Answer(404, {"message": "Not Found"})
        if match["instance"] != self.id_instance:
            return _Answer(403, {"message": "Forbidden"})
        if match["token"] != self.token:
            return _Answer(401, {"message": "Unauthorized"})
        if (method, match["method"]) == ("GET", "getStateInstance"):
            return _Answer(200, {"stateInstance": self.state_instance})
        if (method, match["method"]) == ("POST", "sendMessage"):
            return self._send_message(path, raw, body)
        return _Answer(404, {"message": "Not Found"})

    def _send_message(self, path: str, raw: bytes, body: Any) -> _Answer:
        problem = _validate_send(raw, body)
        if problem is not None:
            return _bad_request(path, problem)
        id_message = "3EB0" + secrets.token_hex(8).upper()
        with self._lock:
            self._sent.append(body)
        return _Answer(200, {"idMessage": id_message})


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _validate_send(raw: bytes, body: Any) -> str | None:
    """The first problem Green API would report for a sendMessage body (docs/providers.md, G9)."""
    if body is None:
        return "Unexpected token in JSON at position 0" if raw else "'chatId' is required"
    if not isinstance(body, dict):
        return "bad request data"
    extras = sorted(set(body) - _SEND_FIELDS)
    if extras:
        return f"'{extras[0]}' is not allowed"
    chat_id, message = body.get("chatId"), body.get("message")
    if chat_id is None:
        return "'chatId' is required"
    if not isinstance(chat_id, str) or not _CHAT_ID.fullmatch(chat_id):
        return CHAT_ID_FORMAT_ERROR
    if message is None:
        return "'message' is required"
    if not isinstance(message, str):
        return "'message' must be a string"
    if not message:
        return "'message' is not allowed to be empty"
    if len(message) > MAX_MESSAGE_LENGTH:
        return (
            f"'message' length must be less than or equal to {MAX_MESSAGE_LENGTH} characters long"
        )
    quoted = body.get("quotedMessageId")
    if quoted is not None and (not isinstance(quoted, str) or len(quoted) < 16):
        return "'message id' must be at least 16 symbols"
    return None


def _bad_request(path: str, problem: str) -> _Answer:
    # The body echoes the request path, token included, as web frameworks' error bodies often do:
    # this keeps the adapter honest about never repeating provider text unredacted.
    return _Answer(
        400,
        {
            "statusCode": 400,
            "timestamp": int(time.time()),
            "path": path,
            "message": f"Validation failed. Details: {problem}",
        },
    )


def _handler_for(fake: FakeGreenAPI) -> type[BaseHTTPRequestHandler]:
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
            answer = fake.handle(method, self.path, raw, headers)
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
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
def run_fake_green_api(
    id_instance: str = "1101823456",
    token: str = "test-token",
) -> Iterator[FakeGreenAPI]:
    """Start a fake instance on a free loopback port; `fake.base_url` is its apiUrl."""
    fake = FakeGreenAPI(id_instance, token)
    server = _QuietServer(("127.0.0.1", 0), _handler_for(fake))
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
