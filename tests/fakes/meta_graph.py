"""A fake Meta Graph API: a real HTTP server on 127.0.0.1 speaking the Cloud API's wire format
(docs/providers.md, M1, M5, M6, M8) for one business phone number, and the signing of webhooks.

It runs in a daemon thread, so sync and async tests (and the real httpx client) use it alike.
Every request is recorded; failures can be programmed for the next requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.green_api import RecordedRequest, _multipart
from tests.fakes.loopback import Answer as _Answer
from tests.fakes.loopback import serving

VERSION = "v26.0"
WABA_ID = "102938475610293"
TEMPLATES_PAGE = 2  # a short page, so the listing is followed through paging.next
SAMPLE_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "follow_up",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "id": "1387372356726601",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, are you still looking for a home? Reply to chat."}
        ],
    },
    {
        "name": "viewing_reminder",
        "language": "pt_PT",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "id": "1387372356726668",
        "components": [
            {
                "type": "BODY",
                "text": "Olá {{first_name}}, lembramos a visita de {{when}} a {{listing}}.",
            }
        ],
    },
    {
        "name": "new_listings",
        "language": "en_US",
        "status": "PENDING",
        "category": "MARKETING",
        "parameter_format": "POSITIONAL",
        "id": "1387372356726699",
        "components": [{"type": "BODY", "text": "New homes this week, {{1}}!"}],
    },
)
MAX_TEXT_LENGTH = 4096
# Interactive limits (docs/providers.md, M12).
MAX_BUTTONS, BUTTON_ID, BUTTON_TITLE, BUTTONS_BODY = 3, 256, 20, 1024
MAX_ROWS, ROW_ID, ROW_TITLE, ROW_DESCRIPTION = 10, 200, 24, 72
LIST_BUTTON, LIST_BODY, LIST_HEADER = 20, 4096, 60
_PATH = re.compile(r"/v\d+\.\d+/(?P<node>[^/?]+)(?:/(?P<edge>[^/?]+))?")
_PHONE = re.compile(r"\+?\d{6,20}")
_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends with `body` (docs/providers.md, M2)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature(secret, body)}


def graph_error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    """A failure in Graph's error shape (docs/providers.md, M8)."""
    body = {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "Afake" + secrets.token_hex(6),
        }
    }
    return status, body


class FakeMetaGraph:
    """One business phone number behind one access token, and a log of what it was asked."""

    def __init__(self, phone_number_id: str, token: str, waba_id: str = WABA_ID) -> None:
        self.phone_number_id = phone_number_id
        self.token = token
        self.waba_id = waba_id
        # The business account's templates, as GET message_templates lists them (M9).
        self.templates: list[dict[str, Any]] = list(SAMPLE_TEMPLATES)
        self.base_url = ""  # {origin}/v26.0: a channel's graph_url
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._sent: list[dict[str, Any]] = []
        self._read: list[str] = []
        self._media: dict[str, tuple[str, str, bytes]] = {}
        # Files customers sent, by media id, and the short-lived URL of each (M11).
        self._inbound: dict[str, tuple[str, bytes]] = {}
        self._media_urls: dict[str, str] = {}
        self._failures: deque[_Answer] = deque()
        self._send_failures: deque[_Answer] = deque()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of the message sends that were accepted (answered 200)."""
        with self._lock:
            return list(self._sent)

    @property
    def sent_templates(self) -> list[dict[str, Any]]:
        """The `template` objects of the accepted template sends, in order."""
        with self._lock:
            return [dict(b["template"]) for b in self._sent if b.get("type") == "template"]

    @property
    def sent_interactive(self) -> list[dict[str, Any]]:
        """The `interactive` objects of the accepted interactive sends, in order."""
        with self._lock:
            return [dict(b["interactive"]) for b in self._sent if b.get("type") == "interactive"]

    @property
    def read_marks(self) -> list[str]:
        """The wamids marked as read, in order."""
        with self._lock:
            return list(self._read)

    @property
    def uploads(self) -> dict[str, tuple[str, str, bytes]]:
        """Media id -> (filename, content type, bytes) of each accepted upload."""
        with self._lock:
            return dict(self._media)

    def add_media(self, content: bytes, mime: str) -> str:
        """A file a customer sent: the media id a webhook will name (docs/providers.md, M11)."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        with self._lock:
            self._inbound[media_id] = (mime, content)
            self._media_urls[f"/media-files/{secrets.token_hex(12)}"] = media_id
        return media_id

    @property
    def media_downloads(self) -> int:
        """How many times a media URL answered its bytes."""
        with self._lock:
            return sum(
                1
                for r in self._requests
                if r.path in self._media_urls
                and r.headers.get("authorization") == f"Bearer {self.token}"
            )

    def fail_next(self, status: int, code: int, count: int = 1, message: str = "fake") -> None:
        """Answer the next `count` requests with a Graph error before any validation."""
        answer = _Answer(*graph_error(status, code, message))
        with self._lock:
            self._failures.extend([answer] * count)

    def refuse_next_send(self, status: int, code: int, message: str = "fake") -> None:
        """Refuse the next message send (not a read mark) with a Graph error, e.g. 131047."""
        with self._lock:
            self._send_failures.append(_Answer(*graph_error(status, code, message)))

    def handle(self, method: str, path: str, raw: bytes, headers: Mapping[str, str]) -> _Answer:
        body = _decode(raw)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, body, dict(headers)))
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return failure
        if urlsplit(path).path in self._media_urls:
            return self._media_file(urlsplit(path).path, headers)
        match = _PATH.fullmatch(urlsplit(path).path)
        if match is None:
            return _Answer(*graph_error(400, 100, "Unknown path components"))
        if headers.get("authorization", "") != f"Bearer {self.token}":
            return _Answer(*graph_error(401, 190, "Invalid OAuth access token"))
        if match["node"] == self.waba_id and (method, match["edge"]) == (
            "GET",
            "message_templates",
        ):
            return self._templates(path)
        if method == "GET" and not match["edge"] and match["node"] in self._inbound:
            return self._describe_media(match["node"])
        if match["node"] != self.phone_number_id:
            return _Answer(*graph_error(400, 100, "Unsupported request: object does not exist"))
        route = (method, match["edge"] or "")
        if route == ("GET", ""):
            return _Answer(
                200,
                {
                    "display_phone_number": "+351 21 000 0001",
                    "verified_name": "Imobiliária Almeida",
                    "quality_rating": "GREEN",
                    "id": self.phone_number_id,
                },
            )
        if route == ("POST", "messages"):
            return self._message(body)
        if route == ("POST", "media"):
            return self._upload(raw, headers)
        return _Answer(*graph_error(400, 100, "Unsupported request"))

    def _describe_media(self, media_id: str) -> _Answer:
        """GET /{media-id}: where the file is, for a few minutes (docs/providers.md, M11)."""
        with self._lock:
            mime, content = self._inbound[media_id]
            url = next(u for u, known in self._media_urls.items() if known == media_id)
        origin = self.base_url.rsplit("/", 1)[0]
        return _Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "url": origin + url,
                "mime_type": mime,
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": len(content),
                "id": media_id,
            },
        )

    def _media_file(self, path: str, headers: Mapping[str, str]) -> _Answer:
        """The media URL: the bytes, only with the access token (401 without)."""
        if headers.get("authorization", "") != f"Bearer {self.token}":
            return _Answer(*graph_error(401, 190, "Invalid OAuth access token"))
        with self._lock:
            mime, content = self._inbound[self._media_urls[path]]
        return _Answer(200, content, mime)

    def _templates(self, path: str) -> _Answer:
        """One page of the templates, `paging.next` naming the next (docs/providers.md, M9)."""
        query = parse_qs(urlsplit(path).query)
        after = int(query.get("after", ["0"])[0] or 0)
        with self._lock:
            page = self.templates[after : after + TEMPLATES_PAGE]
            more = after + TEMPLATES_PAGE < len(self.templates)
        answer: dict[str, Any] = {"data": page, "paging": {"cursors": {"after": str(after)}}}
        if more:
            next_after = after + TEMPLATES_PAGE
            answer["paging"]["next"] = (
                f"{self.base_url}/{self.waba_id}/message_templates?limit={TEMPLATES_PAGE}"
                f"&after={next_after}"
            )
        return _Answer(200, answer)

    def _template_problem(self, body: dict[str, Any]) -> _Answer | None:
        """Graph's refusal of a template send: unknown name or language (132001), another
        number of body parameters (132000), not approved (132015) (docs/providers.md, M9)."""
        template = body["template"]
        language = template.get("language") or {}
        with self._lock:
            known = next(
                (
                    t
                    for t in self.templates
                    if t["name"] == template.get("name") and t["language"] == language.get("code")
                ),
                None,
            )
        if known is None:
            return _Answer(
                *graph_error(404, 132001, "Template name does not exist in the translation")
            )
        if known["status"] != "APPROVED":
            return _Answer(*graph_error(400, 132015, "Template is paused or not approved"))
        text = next(c["text"] for c in known["components"] if c["type"] == "BODY")
        wanted = len(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", text)))
        given = [
            p
            for c in template.get("components", [])
            if c.get("type") == "body"
            for p in c.get("parameters", [])
            if isinstance(p, dict) and p.get("text")
        ]
        if len(given) != wanted:
            return _Answer(*graph_error(400, 132000, "Number of parameters does not match"))
        return None

    def _message(self, body: Any) -> _Answer:
        problem = _validate_message(body)
        if problem is not None:
            return _Answer(*graph_error(400, 100, problem))
        if isinstance(body, dict) and body.get("type") == "interactive":
            problem = _interactive_problem(body.get("interactive"))
            if problem is not None:
                return _Answer(
                    *graph_error(400, 131009, f"Parameter value is not valid: {problem}")
                )
        if body.get("status") == "read":
            with self._lock:
                self._read.append(str(body["message_id"]))
            return _Answer(200, {"success": True})
        with self._lock:
            refusal = self._send_failures.popleft() if self._send_failures else None
        if refusal is not None:
            return refusal
        if body.get("type") == "template":
            template_refusal = self._template_problem(body)
            if template_refusal is not None:
                return template_refusal
        recipient = body.get("to") or body.get("recipient")
        contact: dict[str, str] = {"input": str(recipient)}
        if body.get("to"):
            contact["wa_id"] = str(body["to"]).lstrip("+")
        else:
            contact["user_id"] = str(recipient)
        with self._lock:
            self._sent.append(body)
        wamid = "wamid.FAKE" + secrets.token_urlsafe(24)
        return _Answer(
            200,
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]},
        )

    def _upload(self, raw: bytes, headers: Mapping[str, str]) -> _Answer:
        form = _multipart(raw, headers.get("content-type", ""))
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp":
            return _Answer(*graph_error(400, 100, "messaging_product is required"))
        if not isinstance(upload, tuple) or not upload[2] or not upload[1]:
            return _Answer(*graph_error(400, 100, "file with a type is required"))
        media_id = str(secrets.randbelow(10**15) + 10**15)
        with self._lock:
            self._media[media_id] = upload
        return _Answer(200, {"id": media_id})


def _validate_message(body: Any) -> str | None:
    """The first problem Graph would report for a /messages body (docs/providers.md, M5)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be 'whatsapp'"
    if body.get("status") == "read":
        return None if isinstance(body.get("message_id"), str) else "message_id is required"
    to, recipient = body.get("to"), body.get("recipient")
    if to is None and recipient is None:
        return "to or recipient is required"
    if to is not None and not (isinstance(to, str) and _PHONE.fullmatch(to)):
        return "to is not a phone number"
    if to is None and not (isinstance(recipient, str) and _USER_ID.fullmatch(recipient)):
        return "recipient is not a business-scoped user id"
    kind = body.get("type")
    if not isinstance(kind, str) or not isinstance(body.get(kind), dict):
        return "type and its object are required"
    if kind == "text":
        text = body["text"].get("body")
        if not isinstance(text, str) or not text:
            return "text.body is required"
        if len(text) > MAX_TEXT_LENGTH:
            return f"text.body is longer than {MAX_TEXT_LENGTH} characters"
    if kind == "template":
        template = body["template"]
        if not isinstance(template.get("name"), str) or not isinstance(
            template.get("language"), dict
        ):
            return "template.name and template.language are required"
    if kind == "document" and not (body["document"].get("id") or body["document"].get("link")):
        return "document.id or document.link is required"
    if kind == "image" and not (body["image"].get("id") or body["image"].get("link")):
        return "image.id or image.link is required"
    if kind == "image" and len(str(body["image"].get("caption", ""))) > 1024:
        return "image.caption is longer than 1024 characters"
    if kind == "location" and not all(
        isinstance(body["location"].get(name), int | float) for name in ("latitude", "longitude")
    ):
        return "location.latitude and location.longitude are required"
    return None


def _too_long(value: Any, limit: int, *, required: bool = True) -> bool:
    if value is None:
        return required
    return not isinstance(value, str) or (required and not value) or len(value) > limit


def _interactive_problem(content: Any) -> str | None:
    """What Graph refuses in a reply-button or list message (its limits, docs/providers.md,
    M12), answered 400 with 131009."""
    if not isinstance(content, dict) or not isinstance(content.get("action"), dict):
        return "interactive.action is required"
    body = content.get("body")
    if not isinstance(body, dict):
        return "interactive.body is required"
    header = content.get("header")
    if header is not None and (
        not isinstance(header, dict) or _too_long(header.get("text"), LIST_HEADER)
    ):
        return f"header.text is at most {LIST_HEADER} characters"
    action = content["action"]
    if content.get("type") == "button":
        if _too_long(body.get("text"), BUTTONS_BODY):
            return f"body.text is at most {BUTTONS_BODY} characters"
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            return f"a message has 1 to {MAX_BUTTONS} buttons"
        replies = [b.get("reply") if isinstance(b, dict) else None for b in buttons]
        if not all(isinstance(r, dict) for r in replies):
            return "each button needs a reply"
        if any(
            _too_long(r.get("id"), BUTTON_ID) or _too_long(r.get("title"), BUTTON_TITLE)
            for r in replies
        ):
            return f"button ids are at most {BUTTON_ID}, titles {BUTTON_TITLE} characters"
        return None
    if content.get("type") != "list":
        return "interactive.type must be button or list"
    if _too_long(body.get("text"), LIST_BODY):
        return f"body.text is at most {LIST_BODY} characters"
    if _too_long(action.get("button"), LIST_BUTTON):
        return f"action.button is at most {LIST_BUTTON} characters"
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_ROWS:
        return "a list has 1 to 10 sections"
    if not all(isinstance(section, dict) for section in sections):
        return "each section is an object"
    rows = [row for section in sections for row in section.get("rows") or []]
    if not 1 <= len(rows) <= MAX_ROWS:
        return f"a list has 1 to {MAX_ROWS} rows in all"
    for row in rows:
        if not isinstance(row, dict):
            return "each row is an object"
        if _too_long(row.get("id"), ROW_ID):
            return f"row.id is at most {ROW_ID} characters"
        if _too_long(row.get("title"), ROW_TITLE):
            return f"row.title is at most {ROW_TITLE} characters"
        if _too_long(row.get("description"), ROW_DESCRIPTION, required=False):
            return f"row.description is at most {ROW_DESCRIPTION} characters"
    ids = [row["id"] for row in rows]
    return "row ids must be unique" if len(set(ids)) != len(ids) else None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@contextmanager
def run_fake_meta_graph(
    phone_number_id: str = "112233445566778",
    token: str = "meta-access-token-0123",
    waba_id: str = WABA_ID,
) -> Iterator[FakeMetaGraph]:
    """Start a fake Graph on a free loopback port; `fake.base_url` is its graph_url."""
    fake = FakeMetaGraph(phone_number_id, token, waba_id)
    with serving(fake.handle) as origin:
        fake.base_url = f"{origin}/{VERSION}"
        yield fake
