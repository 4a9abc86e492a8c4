"""A fake Green API: a real HTTP server on 127.0.0.1 speaking the wire format of docs/providers.md,
G1, G8, G9.

It runs in a daemon thread, so sync and async tests (and the real httpx client) use it alike.
Every request is recorded; failures and delays can be programmed for the next requests.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import Answer as _Answer
from tests.fakes.loopback import serving

MAX_MESSAGE_LENGTH = 20_000
CHAT_ID_FORMAT_ERROR = (
    "'chatId' must be one of the next formats: 'phone_number@c.us' or 'group_id@g.us'"
)
_CHAT_ID = re.compile(r"\d+@c\.us|[\d-]+@g\.us|\d+@lid")
_PATH = re.compile(
    r"/waInstance(?P<instance>[^/]*)/(?P<method>[^/]+)/(?P<token>[^/?]*)(?:/(?P<receipt>[^/?]*))?"
)
# receiveNotification waits at most this long here, whatever receiveTimeout asks: a test's loop
# is cancelled at its end, and the server thread must not hold on for a minute.
_MAX_RECEIVE_WAIT_SECONDS = 5.0
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


@dataclass
class _File:
    """A file a notification names: its bytes at a download URL, which may have expired."""

    content: bytes
    mime: str
    chat_id: str
    message_id: str
    path: str
    expired: bool


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
        self._files: list[dict[str, Any]] = []
        self._images: list[dict[str, Any]] = []
        self._locations: list[dict[str, Any]] = []
        self._failures: deque[_Answer] = deque()
        self._delays: deque[float] = deque()
        # The notification queue of polling mode (docs/providers.md, G17) and its receipt ids.
        self._queue: deque[tuple[int, Any]] = deque()
        self._queued = threading.Condition(self._lock)
        self._next_receipt = 1
        self._deleted: list[int] = []
        self._delete_failures: deque[tuple[_Answer, float]] = deque()
        # The incoming journal (docs/providers.md, G18), newest last as pushed; served newest first.
        self._journal: list[dict[str, Any]] = []
        self._sent_journal: list[dict[str, Any]] = []
        # Received files by download path (docs/providers.md, G21).
        self._downloads: dict[str, _File] = {}
        self._served: list[str] = []

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the sendMessage calls that were accepted (answered 200)."""
        with self._lock:
            return list(self._sent)

    @property
    def sent_files(self) -> list[dict[str, Any]]:
        """The accepted sendFileByUpload calls: their form fields, and `file` as
        (filename, content type, bytes)."""
        with self._lock:
            return list(self._files)

    @property
    def sent_images(self) -> list[dict[str, Any]]:
        """Bodies of the accepted sendFileByUrl calls."""
        with self._lock:
            return list(self._images)

    @property
    def sent_locations(self) -> list[dict[str, Any]]:
        """Bodies of the accepted sendLocation calls."""
        with self._lock:
            return list(self._locations)

    def push_notification(self, body: Any) -> int:
        """Queue a notification for receiveNotification, as Green API queues one it has for
        an instance without a webhook URL; its receipt id is returned."""
        with self._queued:
            receipt = self._next_receipt
            self._next_receipt += 1
            self._queue.append((receipt, body))
            self._queued.notify_all()
        return receipt

    @property
    def queued_notifications(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def deleted_receipts(self) -> list[int]:
        """The receipt ids deleteNotification removed, in order."""
        with self._lock:
            return list(self._deleted)

    def fail_next_delete(self, status: int, count: int = 1, *, delay_seconds: float = 0) -> None:
        """Answer the next `count` deleteNotification calls with `status` (after `delay_seconds`),
        deleting nothing: a crash between storing a notification and deleting it."""
        answer = _Answer(status, {"message": f"fake {status}"})
        with self._lock:
            self._delete_failures.extend([(answer, delay_seconds)] * count)

    def add_incoming(self, entry: dict[str, Any]) -> None:
        """A message in the incoming journal that lastIncomingMessages lists."""
        with self._lock:
            self._journal.append(entry)

    def add_outgoing(self, entry: dict[str, Any]) -> None:
        """A message in the outgoing journal that lastOutgoingMessages lists."""
        with self._lock:
            self._sent_journal.append(entry)

    def add_file(
        self,
        content: bytes,
        mime: str,
        *,
        chat_id: str,
        message_id: str,
        expired: bool = False,
    ) -> str:
        """Keep a file a notification will name; its downloadUrl is returned. An `expired` link
        answers 404, and downloadFile for the message hands out a fresh one (G21)."""
        path = f"/download/{secrets.token_hex(8)}/{message_id}"
        with self._lock:
            self._downloads[path] = _File(content, mime, chat_id, message_id, path, expired)
        return self.base_url + path

    @property
    def downloads(self) -> list[str]:
        """The paths of the download URLs that were read (answered 200), in order."""
        with self._lock:
            return list(self._served)

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
        if path.startswith("/download/"):
            return self._download(method, path)
        if path.split("?", 1)[0].split("/")[2:3] == ["sendFileByUpload"]:
            return self._send_file(path, raw, headers)
        return self._route(method, path, raw, body)

    def _send_file(self, path: str, raw: bytes, headers: Mapping[str, str]) -> _Answer:
        """sendFileByUpload: multipart form with chatId, file and an optional caption."""
        match = _PATH.fullmatch(path.split("?", 1)[0])
        if match is None or match["token"] != self.token:
            return _Answer(401, {"message": "Unauthorized"})
        form = _multipart(raw, headers.get("content-type", ""))
        chat_id, upload = form.get("chatId"), form.get("file")
        if not isinstance(chat_id, str) or not _CHAT_ID.fullmatch(chat_id):
            return _bad_request(path, CHAT_ID_FORMAT_ERROR)
        if not isinstance(upload, tuple) or not upload[2]:
            return _bad_request(path, "'file' is required")
        with self._lock:
            self._files.append(form)
        return _Answer(200, {"idMessage": "3EB0" + secrets.token_hex(8).upper(), "urlFile": ""})

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
        if (method, match["method"]) == ("GET", "receiveNotification"):
            return self._receive(_query_number(path, "receiveTimeout", default=5))
        if (method, match["method"]) == ("DELETE", "deleteNotification"):
            return self._delete(match["receipt"] or "")
        if (method, match["method"]) == ("GET", "lastIncomingMessages"):
            return self._last(self._journal, _query_number(path, "minutes", default=1440))
        if (method, match["method"]) == ("GET", "lastOutgoingMessages"):
            return self._last(self._sent_journal, _query_number(path, "minutes", default=1440))
        if (method, match["method"]) == ("POST", "sendMessage"):
            return self._send_message(path, raw, body)
        if (method, match["method"]) == ("POST", "sendFileByUrl"):
            return self._accept(path, _validate_file_by_url(body), body, self._images)
        if (method, match["method"]) == ("POST", "sendLocation"):
            return self._accept(path, _validate_location(body), body, self._locations)
        if (method, match["method"]) == ("POST", "downloadFile"):
            return self._fresh_link(path, body)
        return _Answer(404, {"message": "Not Found"})

    def _download(self, method: str, path: str) -> _Answer:
        with self._lock:
            found = self._downloads.get(path)
        if method != "GET" or found is None or found.expired:
            return _Answer(404, {"message": "Not Found"})
        with self._lock:
            self._served.append(path)
        return _Answer(200, found.content, found.mime)

    def _fresh_link(self, path: str, body: Any) -> _Answer:
        """downloadFile {chatId, idMessage}: a new downloadUrl for a message's file."""
        if not isinstance(body, dict):
            return _bad_request(path, "'chatId' and 'idMessage' are required")
        with self._lock:
            found = next(
                (
                    f
                    for f in self._downloads.values()
                    if f.chat_id == body.get("chatId") and f.message_id == body.get("idMessage")
                ),
                None,
            )
        if found is None:
            return _bad_request(path, "message not found")
        fresh = f"/download/{secrets.token_hex(8)}/{found.message_id}"
        with self._lock:
            self._downloads[fresh] = _File(
                found.content, found.mime, found.chat_id, found.message_id, fresh, False
            )
        return _Answer(200, {"downloadUrl": self.base_url + fresh})

    def _receive(self, wait_seconds: float) -> _Answer:
        """The head of the queue, left there until deleted; `null` after the wait if none."""
        deadline = time.monotonic() + min(wait_seconds, _MAX_RECEIVE_WAIT_SECONDS)
        with self._queued:
            while not self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return _Answer(200, None)
                self._queued.wait(left)
            receipt, body = self._queue[0]
        return _Answer(200, {"receiptId": receipt, "body": body})

    def _delete(self, receipt: str) -> _Answer:
        with self._lock:
            failure = self._delete_failures.popleft() if self._delete_failures else None
        if failure is not None:
            time.sleep(failure[1])
            return failure[0]
        with self._lock:
            for index, (queued, _body) in enumerate(self._queue):
                if str(queued) == receipt:
                    del self._queue[index]
                    self._deleted.append(queued)
                    return _Answer(200, {"result": True})
        return _Answer(200, {"result": False})

    def _last(self, journal: list[dict[str, Any]], minutes: float) -> _Answer:
        since = time.time() - minutes * 60
        with self._lock:
            entries = [entry for entry in journal if entry.get("timestamp", 0) >= since]
        return _Answer(200, sorted(entries, key=lambda entry: -entry.get("timestamp", 0)))

    def _send_message(self, path: str, raw: bytes, body: Any) -> _Answer:
        problem = _validate_send(raw, body)
        if problem is not None:
            return _bad_request(path, problem)
        id_message = "3EB0" + secrets.token_hex(8).upper()
        with self._lock:
            self._sent.append(body)
        return _Answer(200, {"idMessage": id_message})

    def _accept(
        self, path: str, problem: str | None, body: Any, log: list[dict[str, Any]]
    ) -> _Answer:
        if problem is not None:
            return _bad_request(path, problem)
        with self._lock:
            log.append(body)
        return _Answer(200, {"idMessage": "3EB0" + secrets.token_hex(8).upper()})


def _validate_chat(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "bad request data"
    chat_id = body.get("chatId")
    if chat_id is None:
        return "'chatId' is required"
    if not isinstance(chat_id, str) or not _CHAT_ID.fullmatch(chat_id):
        return CHAT_ID_FORMAT_ERROR
    return None


def _validate_file_by_url(body: Any) -> str | None:
    """sendFileByUrl: chatId, urlFile and a fileName with its extension (reference 2)."""
    problem = _validate_chat(body)
    if problem is not None:
        return problem
    extras = sorted(set(body) - {"chatId", "urlFile", "fileName", "caption", "quotedMessageId"})
    if extras:
        return f"'{extras[0]}' is not allowed"
    url, name = body.get("urlFile"), body.get("fileName")
    if not isinstance(url, str) or not re.match(r"https?://", url):
        return "'urlFile' must be a valid uri"
    if not isinstance(name, str) or "." not in name:
        return "'fileName' is required and must have an extension"
    return None


def _validate_location(body: Any) -> str | None:
    """sendLocation: chatId, numeric latitude and longitude; name and address optional."""
    problem = _validate_chat(body)
    if problem is not None:
        return problem
    extras = set(body) - {"chatId", "nameLocation", "address", "latitude", "longitude"}
    if extras - {"quotedMessageId"}:
        return f"'{sorted(extras)[0]}' is not allowed"
    for name in ("latitude", "longitude"):
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"'{name}' is required and must be a number"
    return None


def _query_number(path: str, name: str, *, default: float) -> float:
    values = parse_qs(urlsplit(path).query).get(name, [])
    try:
        return float(values[0]) if values else default
    except ValueError:
        return default


def _multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body read with the standard library: text fields as str, file
    fields as (filename, content type, bytes)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    form: dict[str, Any] = {}
    if not message.is_multipart():
        return form
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            form[str(name)] = content.decode()
        else:
            form[str(name)] = (filename, part.get_content_type(), content)
    return form


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


@contextmanager
def run_fake_green_api(
    id_instance: str = "1101823456",
    token: str = "test-token",
) -> Iterator[FakeGreenAPI]:
    """Start a fake instance on a free loopback port; `fake.base_url` is its apiUrl."""
    fake = FakeGreenAPI(id_instance, token)
    with serving(fake.handle) as origin:
        fake.base_url = origin
        yield fake
