"""A fake OpenAI-compatible POST /v1/audio/transcriptions on 127.0.0.1 for the openai SDK.

It reads the multipart form as OpenAI, Groq and faster-whisper servers do, refuses a file
that is not audio (a WAV's RIFF/WAVE header or an Ogg page's "OggS") with OpenAI's 400, and
answers the text a test registered for those exact bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

PATH = "/v1/audio/transcriptions"


@dataclass(frozen=True)
class AudioFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class TranscriptionRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    fields: dict[str, str]  # the form's text fields: model, language, response_format, …
    file: AudioFile | None


@dataclass(frozen=True)
class Failure:
    status: int
    message: str = ""


@dataclass
class _State:
    texts: dict[str, str] = field(default_factory=dict)  # sha256 of the audio -> its words
    languages: dict[str, str] = field(default_factory=dict)  # sha256 -> the code detected
    failures: deque[Failure] = field(default_factory=deque)
    requests: list[TranscriptionRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def is_audio(content: bytes) -> bool:
    riff = content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    return riff or content[:4] == b"OggS"


def error_body(status: int, message: str) -> dict[str, Any]:
    """OpenAI's error shape (llm-apis.md 2.5)."""
    kind = {400: "invalid_request_error", 401: "invalid_request_error"}.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeTranscription:
    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key  # None: any bearer, or none, is accepted (a local server)
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None

    # --- scripting -------------------------------------------------------------------------
    def register(self, content: bytes, text: str, *, language: str | None = None) -> None:
        """These exact audio bytes are heard as `text`; `language` is answered as the newest
        models do (`languages: [{"code": …}]`)."""
        digest = hashlib.sha256(content).hexdigest()
        with self._state.lock:
            self._state.texts[digest] = text
            if language is not None:
                self._state.languages[digest] = language

    def fail_next(self, status: int, *, count: int = 1, message: str = "") -> None:
        """The next `count` well-formed requests answer `status` (429, 500, …)."""
        with self._state.lock:
            self._state.failures.extend([Failure(status, message)] * count)

    @property
    def requests(self) -> list[TranscriptionRequest]:
        with self._state.lock:
            return list(self._state.requests)

    # --- serving ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"  # the SDK appends /audio/transcriptions

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
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

    def answer(self, request: TranscriptionRequest) -> tuple[int, dict[str, Any]]:
        if request.path != PATH:
            return 404, error_body(404, f"no route {request.path}")
        bearer = request.headers.get("authorization", "")
        if self.api_key is not None and bearer != f"Bearer {self.api_key}":
            return 401, error_body(401, "Incorrect API key provided")
        problem = _problem(request)
        if problem is not None:
            return 400, error_body(400, problem)
        state = self._state
        with state.lock:
            failure = state.failures.popleft() if state.failures else None
            assert request.file is not None
            digest = hashlib.sha256(request.file.content).hexdigest()
            text = state.texts.get(digest)
            language = state.languages.get(digest)
        if failure is not None:
            return failure.status, error_body(failure.status, failure.message or "fake failure")
        if text is None:
            text = ""  # silence, or audio nobody registered: whisper hears nothing
        body: dict[str, Any] = {"text": text}
        if language is not None:
            body["languages"] = [{"code": language}]
        if request.fields.get("response_format") == "verbose_json":
            body |= {"task": "transcribe", "language": "english", "duration": 0.5, "segments": []}
        return 200, body


def _problem(request: TranscriptionRequest) -> str | None:
    if not request.fields.get("model"):
        return "you must provide a model parameter"
    if request.file is None:
        return "'file' is a required property"
    if not is_audio(request.file.content):
        return (
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', "
            "'mpga', 'oga', 'ogg', 'wav', 'webm']"
        )
    if request.fields.get("response_format", "json") not in ("json", "text", "verbose_json"):
        return "response_format must be json, text or verbose_json"
    return None


def _parse(handler: BaseHTTPRequestHandler) -> TranscriptionRequest:
    length = int(handler.headers.get("content-length") or 0)
    raw = handler.rfile.read(length) if length else b""
    headers = {name.lower(): value for name, value in handler.headers.items()}
    fields: dict[str, str] = {}
    file = None
    content_type = headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = BytesParser(policy=HTTP).parsebytes(
            f"content-type: {content_type}\r\n\r\n".encode() + raw
        )
        for part in form.iter_parts():
            file, fields = _read_part(part, file, fields)
    return TranscriptionRequest(urlsplit(handler.path).path, headers, fields, file)


def _read_part(
    part: Message, file: AudioFile | None, fields: dict[str, str]
) -> tuple[AudioFile | None, dict[str, str]]:
    name = part.get_param("name", header="content-disposition")
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    if name == "file":
        filename = part.get_filename() or ""
        return AudioFile(filename, part.get_content_type(), content), fields
    if isinstance(name, str):
        fields[name] = content.decode()
    return file, fields


def _handler_for(fake: FakeTranscription) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = _parse(self)
            with fake._state.lock:
                fake._state.requests.append(request)
            status, body = fake.answer(request)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:12]}")
            if status == 429 or status >= 500:
                self.send_header("retry-after-ms", "1")  # SDK retries stay fast
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def run_fake_transcription(*, api_key: str | None = None) -> Iterator[FakeTranscription]:
    with FakeTranscription(api_key=api_key) as fake:
        yield fake
