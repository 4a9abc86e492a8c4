"""MetaCloudAdapter: signed webhooks, and texts, files and read marks sent through Graph."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from whatsapp_assistant.channels.errors import DownloadError, MediaTooLarge, SendError
from whatsapp_assistant.channels.green_api.message_data import (
    JSONObject,
    get_list,
    get_number,
    get_object,
    get_str,
)
from whatsapp_assistant.channels.media import read_capped
from whatsapp_assistant.channels.meta_cloud import payloads
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.transport import transport_failure
from whatsapp_assistant.channels.types import (
    DownloadedMedia,
    MediaRef,
    OutboundChoice,
    OutboundFile,
    OutboundImage,
    OutboundLocation,
    OutboundMessage,
    OutboundTemplate,
    ParsedWebhook,
    SendReceipt,
    TemplateInfo,
)
from whatsapp_assistant.config import MetaCloudSettings
from whatsapp_assistant.infra.http import make_http_client

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature-256"
# Graph error codes that may pass with time (docs/providers.md, M8): unknown or unavailable
# service, call-rate, throughput and pair-rate limits, a number in maintenance.
_RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004})
# Graph refuses a document whose MIME type it does not list; text files go as text/plain
# (docs/providers.md, M5), which is what an .ics invitation is.
_DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_MAX_DETAIL_CHARS = 300
_PHONE_CHAT = re.compile(r"(\d{6,20})@c\.us")
_NAMED_PARAMETER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_POSITIONAL_PARAMETER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# An interactive list's limits (docs/providers.md, M12): one button label, at most 10 rows in
# all, each row's id, title and description, the body and a text header.
LIST_BUTTON_CHARS = 20
LIST_ROWS = 10
ROW_ID_CHARS = 200
ROW_TITLE_CHARS = 24
ROW_DESCRIPTION_CHARS = 72
LIST_BODY_CHARS = 4096
LIST_HEADER_CHARS = 60
_MAX_TEMPLATE_PAGES = 50  # 250 templates (or 6,000) per WABA, 50 a page would be 120 pages


class MetaCloudAdapter:
    """The Meta Cloud API channel: one business phone number id per channel, a Bearer token."""

    name: str = "meta_cloud"
    max_text_length: int = 4096  # text.body limit (docs/providers.md, M5)
    # Free-form only within 24 hours of the customer's last message (docs/providers.md, M9).
    service_window: timedelta = timedelta(hours=24)

    def __init__(
        self, settings: MetaCloudSettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        self._owns_client = client is None
        self._client = client or make_http_client(timeout=settings.timeout_seconds)

    def parse_webhook(self, payload: object) -> ParsedWebhook:
        return payloads.parse_webhook(payload)

    def authenticate(self, channel: Channel, headers: Mapping[str, str], body: bytes) -> bool:
        """`X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body with the app
        secret, compared in constant time (docs/providers.md, M2).

        A channel without an app secret accepts nothing.
        """
        return valid_signature(
            channel.webhook_token or "", body, _header(headers, SIGNATURE_HEADER)
        )

    async def send_text(self, channel: Channel, message: OutboundMessage) -> SendReceipt:
        """POST /{phone_number_id}/messages; the answer's wamid is what statuses will carry."""
        if len(message.text) > self.max_text_length:
            raise ValueError(
                f"text of {len(message.text)} characters exceeds Meta's limit of "
                f"{self.max_text_length}; split it first (kit.text.split_text)"
            )
        body: dict[str, Any] = _addressed(message.chat_id) | {
            "type": "text",
            "text": {"body": message.text, "preview_url": False},
        }
        if message.quoted_id:
            body["context"] = {"message_id": message.quoted_id}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def send_file(self, channel: Channel, file: OutboundFile) -> SendReceipt:
        """Upload the file (POST /{phone_number_id}/media), then send it as a document by id."""
        mime = file.mime
        if mime not in _DOCUMENT_TYPES and mime.startswith("text/"):
            mime = "text/plain"
        media_id = await self._upload(channel, file.filename, file.content, mime)
        document: dict[str, str] = {"id": media_id, "filename": file.filename}
        if file.caption:
            document["caption"] = file.caption[:1024]
        body = _addressed(file.chat_id) | {"type": "document", "document": document}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def send_image(self, channel: Channel, image: OutboundImage) -> SendReceipt:
        """`type: image` by `link` (Graph fetches it), or uploaded first and sent by id."""
        photo: dict[str, str] = {"link": image.url}
        if image.content is not None:
            photo = {"id": await self._upload(channel, image.filename, image.content, image.mime)}
        if image.caption:
            photo["caption"] = image.caption[:1024]  # Graph's limit (docs/providers.md, M10)
        body = _addressed(image.chat_id) | {"type": "image", "image": photo}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def send_location(self, channel: Channel, location: OutboundLocation) -> SendReceipt:
        """`type: location`: latitude and longitude, the name and address shown with the pin."""
        pin: dict[str, Any] = {"latitude": location.latitude, "longitude": location.longitude}
        if location.name:
            pin["name"] = location.name
        if location.address:
            pin["address"] = location.address
        body = _addressed(location.chat_id) | {"type": "location", "location": pin}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def send_interactive(self, channel: Channel, choice: OutboundChoice) -> SendReceipt:
        """`type: interactive` of `list`: one section, a row per choice, every text trimmed to
        Graph's limit rather than refused (docs/providers.md, M12)."""
        if not choice.rows or len(choice.rows) > LIST_ROWS:
            raise ValueError(f"a list has 1 to {LIST_ROWS} rows, not {len(choice.rows)}")
        if any(len(row.id) > ROW_ID_CHARS for row in choice.rows):
            raise ValueError(f"a row id is at most {ROW_ID_CHARS} characters")  # ours, not text
        rows: list[dict[str, str]] = []
        for row in choice.rows:
            item = {"id": row.id, "title": _trim(row.title, ROW_TITLE_CHARS)}
            if row.description:
                item["description"] = _trim(row.description, ROW_DESCRIPTION_CHARS)
            rows.append(item)
        content: dict[str, Any] = {
            "type": "list",
            "body": {"text": _trim(choice.body, LIST_BODY_CHARS)},
            "action": {
                "button": _trim(choice.button, LIST_BUTTON_CHARS),
                "sections": [{"rows": rows}],
            },
        }
        if choice.header:
            content["header"] = {"type": "text", "text": _trim(choice.header, LIST_HEADER_CHARS)}
        body = _addressed(choice.chat_id) | {"type": "interactive", "interactive": content}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def _upload(self, channel: Channel, filename: str, content: bytes, mime: str) -> str:
        """POST /{phone_number_id}/media: the id a message can then carry instead of a link."""
        upload = await self._call(
            channel,
            "POST",
            "media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, content, mime)},
        )
        media_id = get_str(upload, "id")
        if not media_id:
            raise SendError(
                "Graph media upload answered without an id", status_code=200, retryable=True
            )
        return media_id

    async def send_template(self, channel: Channel, template: OutboundTemplate) -> SendReceipt:
        """POST /{phone_number_id}/messages of `type: template`, its body parameters in order,
        named when the template is (docs/providers.md, M9)."""
        parameters: list[dict[str, str]] = []
        for index, value in enumerate(template.parameters):
            parameter = {"type": "text", "text": value}
            if index < len(template.parameter_names):
                parameter["parameter_name"] = template.parameter_names[index]
            parameters.append(parameter)
        content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
        if parameters:
            content["components"] = [{"type": "body", "parameters": parameters}]
        body = _addressed(template.chat_id) | {"type": "template", "template": content}
        return _receipt(await self._call(channel, "POST", "messages", json=body))

    async def list_templates(self, channel: Channel) -> Sequence[TemplateInfo]:
        """GET /{waba_id}/message_templates, following `paging.next` (docs/providers.md, M9)."""
        if not channel.waba_id:
            raise SendError(
                "the channel has no WhatsApp Business Account id", status_code=None, retryable=False
            )
        found: list[TemplateInfo] = []
        params: dict[str, str] | None = {
            "fields": "name,language,status,category,parameter_format,components",
            "limit": "100",
        }
        url: str | None = None
        for _page in range(_MAX_TEMPLATE_PAGES):
            answer = await self._call(
                channel, "GET", "message_templates", params=params, node=channel.waba_id, url=url
            )
            items = get_list(answer, "data")
            found += [_template(item) for item in items if isinstance(item, dict)]
            url = get_str(get_object(answer, "paging"), "next") or None
            if url is None:
                break
            params = None  # the next URL carries them
        return found

    async def mark_read(self, channel: Channel, provider_message_id: str) -> None:
        """Blue ticks for this message and the ones before it (docs/providers.md, M6)."""
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": provider_message_id,
        }
        await self._call(channel, "POST", "messages", json=body)

    async def download_media(
        self, channel: Channel, ref: MediaRef, *, max_bytes: int
    ) -> DownloadedMedia:
        """GET /{media-id} for the file's short-lived URL, then GET that URL, both with the
        token (docs/providers.md, M11). A file Graph says is too long is not read at all."""
        if not ref.media_id:
            raise DownloadError("the message names no media id", status_code=None, retryable=False)
        try:
            described = await self._call(channel, "GET", "", node=ref.media_id)
        except SendError as exc:
            raise DownloadError(
                exc.message.replace("phone number", "media id", 1),
                status_code=exc.status_code,
                retryable=exc.retryable,
            ) from None
        url = get_str(described, "url")
        if not url:
            raise DownloadError(
                "Graph answered the media id without a url", status_code=200, retryable=False
            )
        size = get_number(described, "file_size")
        if size is not None and size > max_bytes:
            raise MediaTooLarge(f"Graph media of {int(size)} bytes", size=int(size))
        downloaded = await read_capped(
            self._client,
            url,
            max_bytes=max_bytes,
            what="Graph media URL",
            headers={"Authorization": f"Bearer {channel.api_token or ''}"},
            filename=ref.filename,
        )
        mime = get_str(described, "mime_type") or downloaded.mime
        return DownloadedMedia(downloaded.content, mime, ref.filename)

    async def get_state(self, channel: Channel) -> str:
        """Whether Graph knows the number under this token: 'authorized' when it does."""
        await self._call(
            channel, "GET", "", params={"fields": "display_phone_number,verified_name"}
        )
        return "authorized"

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter made it; an injected one belongs to its owner."""
        if self._owns_client:
            await self._client.aclose()

    async def _call(
        self,
        channel: Channel,
        method: str,
        edge: str,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        params: dict[str, str] | None = None,
        node: str | None = None,
        url: str | None = None,
    ) -> JSONObject:
        """One Graph call, retried with exponential backoff on errors that may pass
        (docs/providers.md, M8)."""
        token = channel.api_token or ""
        if not token:
            raise SendError(
                f"channel {channel.external_id} has no Meta access token",
                status_code=None,
                retryable=False,
            )
        base = (channel.api_url or self._settings.graph_url).rstrip("/")
        if url is None:
            url = f"{base}/{quote(node or channel.external_id, safe='')}"
            url += f"/{edge}" if edge else ""
        headers = {"Authorization": f"Bearer {token}"}
        attempts = max(1, self._settings.max_attempts)
        what = f"Graph {method} {edge or 'phone number'}"
        failure = SendError("not attempted", status_code=None, retryable=True)
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.request(
                    method, url, headers=headers, json=json, data=data, files=files, params=params
                )
            except httpx.TransportError as exc:
                outcome = transport_failure(what, exc)
                if outcome.ambiguous:
                    # Graph may have taken the message: no second try here (docs/architecture.md,
                    # invariant 5); the outbox decides.
                    raise outcome from None
            else:
                answer = _read_answer(response, what, token)
                if not isinstance(answer, SendError):
                    return answer
                outcome = answer
            if not outcome.retryable or (outcome.ambiguous and edge == "messages"):
                raise outcome
            failure = outcome
            logger.warning(
                "%s for number %s failed (attempt %d of %d): %s",
                what,
                channel.external_id,
                attempt,
                attempts,
                failure.message,
            )
            if attempt < attempts:
                await asyncio.sleep(self._settings.backoff_seconds * 2 ** (attempt - 1))
        raise SendError(
            f"{failure.message} (gave up after {attempts} attempts)",
            status_code=failure.status_code,
            retryable=True,
        )


def valid_signature(app_secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is `sha256=` and the hex HMAC-SHA256 of `body` under `app_secret`."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256=") :].strip().lower().encode())


def _addressed(chat_id: str) -> dict[str, Any]:
    """A chat of a phone number goes `to` "+digits"; a business-scoped user id goes as
    `recipient` (docs/providers.md, M5)."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    phone = _PHONE_CHAT.fullmatch(chat_id)
    if phone is not None:
        body["to"] = "+" + phone.group(1)
    else:
        body["recipient"] = chat_id
    return body


def _trim(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    text = " ".join(text.split()) if limit < 100 else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _template(item: JSONObject) -> TemplateInfo:
    """One listed template; UPPERCASE in Graph's answers (docs/providers.md, M9)."""
    body = ""
    for component in get_list(item, "components"):
        if isinstance(component, dict) and get_str(component, "type").upper() == "BODY":
            body = get_str(component, "text")
    names = tuple(dict.fromkeys(_NAMED_PARAMETER.findall(body)))
    positions = {int(n) for n in _POSITIONAL_PARAMETER.findall(body)}
    return TemplateInfo(
        name=get_str(item, "name"),
        language=get_str(item, "language"),
        status=get_str(item, "status").upper(),
        category=get_str(item, "category").upper(),
        body=body,
        parameter_names=names,
        parameter_count=len(names) or (max(positions) if positions else 0),
    )


def _receipt(answer: JSONObject) -> SendReceipt:
    messages = [m for m in get_list(answer, "messages") if isinstance(m, dict)]
    message_id = get_str(messages[0], "id") if messages else ""
    if not message_id:
        # Graph took the request: sending again could deliver it twice.
        raise SendError("Graph answered 200 without a message id", status_code=200, retryable=False)
    return SendReceipt(provider_message_id=message_id)


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header lookup that works for plain dicts as well as case-insensitive header maps."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _read_answer(response: httpx.Response, what: str, token: str) -> JSONObject | SendError:
    """The JSON of a 2xx; otherwise a SendError whose retry rests on Graph's `code`
    (docs/providers.md, M8)."""
    status = response.status_code
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if 200 <= status < 300:
        if not isinstance(answer, dict):
            return SendError(
                f"{what} answered {status} with a body that is not a JSON object",
                status_code=status,
                retryable=False,
            )
        return answer
    error = get_object(answer, "error") if isinstance(answer, dict) else {}
    code = get_number(error, "code")
    text = get_str(error, "message") or response.reason_phrase
    details = get_str(get_object(error, "error_data"), "details")
    if details:
        text = f"{text} ({details})"
    text = re.sub(r"\s+", " ", text.replace(token, "***") if token else text).strip()
    retryable = status >= 500 or (code is not None and int(code) in _RETRYABLE_CODES)
    return SendError(
        f"{what} answered {status}: {text[:_MAX_DETAIL_CHARS]}",
        status_code=status,
        retryable=retryable,
        ambiguous=status >= 500,  # "something went wrong" may still have sent it
    )
