"""GreenAPIAdapter: webhook parsing and authentication, and texts sent paced and retried."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from whatsapp_assistant.channels.errors import DownloadError, SendError
from whatsapp_assistant.channels.green_api import payloads
from whatsapp_assistant.channels.green_api.message_data import (
    TOO_LARGE_MARKER,
    JSONObject,
    first_str,
    get_str,
)
from whatsapp_assistant.channels.media import read_capped
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.transport import transport_failure
from whatsapp_assistant.channels.types import (
    DownloadedMedia,
    MediaRef,
    Notification,
    OutboundFile,
    OutboundImage,
    OutboundLocation,
    OutboundMessage,
    ParsedWebhook,
    SendReceipt,
)
from whatsapp_assistant.config import GreenAPISettings
from whatsapp_assistant.infra.http import make_http_client
from whatsapp_assistant.kit.ids import same_secret
from whatsapp_assistant.kit.json_input import UnreadableJSON, read_json

logger = logging.getLogger(__name__)

# Reference 3.1 and 3.4: throttling, a dropped connection and server faults may pass; a bad
# request, a wrong token or instance, a wrong method and a used-up quota (466) will not.
_RETRYABLE_STATUS = frozenset({429, 499})
# 499 "may or may not have been executed" (docs/providers.md, G9); 500/504 likewise leave it open.
_AMBIGUOUS_STATUS = frozenset({499, 500, 504})
# Per instance (docs/providers.md, G10): the journals and getStateInstance 1 request/s, the
# notification queue 100/s; sends use the settings.
_MIN_INTERVAL_SECONDS = {
    "getStateInstance": 1.0,
    "lastIncomingMessages": 1.0,
    "lastOutgoingMessages": 1.0,
    "receiveNotification": 0.01,
    "deleteNotification": 0.01,
    "downloadFile": 0.2,
}
# Reads, and a delete that is a no-op the second time: repeating them after an ambiguous
# failure cannot deliver anything twice, unlike a send (docs/providers.md, G9).
_SAFE_TO_REPEAT = frozenset(
    {
        "getStateInstance",
        "lastIncomingMessages",
        "lastOutgoingMessages",
        "receiveNotification",
        "deleteNotification",
    }
)
_MAX_DETAIL_CHARS = 300
# Uploads go to the instance's media host, "1101.media.green-api.com" beside "1101.api.…".
# Where Green API keeps received files ("sw-media-1101.storage.yandexcloud.net") and its own hosts.
_STORAGE_HOST_SUFFIXES = (".green-api.com", ".greenapi.com", ".storage.yandexcloud.net")
_MEDIA_METHODS = frozenset({"sendFileByUpload", "uploadFile"})
_Files = dict[str, tuple[str, bytes, str]]
HTTPMethod = Literal["GET", "POST", "DELETE"]


def media_host(api_url: str) -> str:
    """The media host of an apiUrl: Green API names it with "media" where the API has "api"; a
    host without that part (a proxy, a test server) takes uploads itself."""
    return re.sub(r"(?<=[/.])api(?=\.)", "media", api_url, count=1)


class _Pacer:
    """Spaces calls to one instance and method at least `interval` apart (docs/providers.md, G10).

    Each caller reserves the next free slot before sleeping, so concurrent senders queue up
    without a lock. It paces one process; several processes each keep their own pace.
    """

    def __init__(self) -> None:
        self._next_slot = 0.0

    async def wait(self, interval: float) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)


class GreenAPIAdapter:
    """The Green API channel: one instance per connected number, the token in every URL path."""

    name: str = "green_api"
    max_text_length: int = 20_000  # sendMessage limit (docs/providers.md, G8)

    def __init__(self, settings: GreenAPISettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._owns_client = client is None
        self._client = client or make_http_client(timeout=settings.timeout_seconds)
        self._pacers: dict[tuple[str, str], _Pacer] = {}

    def parse_webhook(self, payload: object) -> ParsedWebhook:
        return payloads.parse_webhook(payload)

    def authenticate(self, channel: Channel, headers: Mapping[str, str], body: bytes) -> bool:
        """`Authorization: Bearer <webhookUrlToken>`, compared in constant time (docs/providers.md,
        G12).

        Green API does not sign bodies, so `body` plays no part. A channel without a configured
        token accepts nothing: an open webhook would let anyone inject customer messages.
        """
        expected = channel.webhook_token or ""
        if not expected:
            return False
        scheme, _, given = _header(headers, "authorization").partition(" ")
        return scheme.lower() == "bearer" and same_secret(given.strip(), expected)

    async def send_text(self, channel: Channel, message: OutboundMessage) -> SendReceipt:
        """POST sendMessage; the answer's idMessage is the id later webhooks will carry."""
        if len(message.text) > self.max_text_length:
            raise ValueError(
                f"text of {len(message.text)} characters exceeds Green API's limit of "
                f"{self.max_text_length}; split it first (kit.text.split_text)"
            )
        body = {"chatId": message.chat_id, "message": message.text}
        if message.quoted_id:
            body["quotedMessageId"] = message.quoted_id
        answer = await self._call(channel, "sendMessage", body)
        message_id = get_str(answer, "idMessage")
        if not message_id:
            # The send may well be queued: retrying could deliver it twice (docs/providers.md, G9).
            raise SendError(
                "Green API sendMessage answered 200 without an idMessage",
                status_code=200,
                retryable=False,
            )
        return SendReceipt(provider_message_id=message_id)

    async def send_file(self, channel: Channel, file: OutboundFile) -> SendReceipt:
        """POST sendFileByUpload (multipart, on the instance's media host) with the caption."""
        body = {"chatId": file.chat_id, "fileName": file.filename}
        if file.caption:
            body["caption"] = file.caption
        upload = {"file": (file.filename, file.content, file.mime)}
        answer = await self._call(channel, "sendFileByUpload", body, files=upload)
        message_id = get_str(answer, "idMessage")
        if not message_id:
            raise SendError(
                "Green API sendFileByUpload answered 200 without an idMessage",
                status_code=200,
                retryable=False,
            )
        return SendReceipt(provider_message_id=message_id)

    async def send_image(self, channel: Channel, image: OutboundImage) -> SendReceipt:
        """POST sendFileByUrl (Green API fetches the photo), or sendFileByUpload with its bytes;
        the file name's extension makes it an image (docs/providers.md, G20)."""
        if image.content is not None:
            photo = OutboundFile(
                chat_id=image.chat_id,
                filename=image.filename,
                mime=image.mime,
                content=image.content,
                caption=image.caption,
            )
            return await self.send_file(channel, photo)
        body = {"chatId": image.chat_id, "urlFile": image.url, "fileName": image.filename}
        if image.caption:
            body["caption"] = image.caption
        return self._receipt("sendFileByUrl", await self._call(channel, "sendFileByUrl", body))

    async def send_location(self, channel: Channel, location: OutboundLocation) -> SendReceipt:
        """POST sendLocation: latitude and longitude, the name and address shown with the pin."""
        body: dict[str, Any] = {
            "chatId": location.chat_id,
            "latitude": location.latitude,
            "longitude": location.longitude,
        }
        if location.name:
            body["nameLocation"] = location.name
        if location.address:
            body["address"] = location.address
        return self._receipt("sendLocation", await self._call(channel, "sendLocation", body))

    async def download_media(
        self, channel: Channel, ref: MediaRef, *, max_bytes: int
    ) -> DownloadedMedia:
        """GET the notification's downloadUrl; when that link answers 4xx (it has expired, or
        there was none), POST downloadFile for a fresh one and GET that (docs/providers.md,
        G21)."""
        if ref.url and self._trusted_link(channel, ref.url):
            try:
                return await read_capped(
                    self._client,
                    ref.url,
                    max_bytes=max_bytes,
                    what="Green API downloadUrl",
                    filename=ref.filename,
                )
            except DownloadError as exc:
                if exc.status_code is None or not 400 <= exc.status_code < 500:
                    raise
                logger.info(
                    "downloadUrl of %s answered %s", ref.provider_message_id, exc.status_code
                )
        try:
            answer = await self._call(
                channel,
                "downloadFile",
                {"chatId": ref.chat_id, "idMessage": ref.provider_message_id},
            )
        except SendError as exc:
            raise DownloadError(
                exc.message, status_code=exc.status_code, retryable=exc.retryable
            ) from None
        fresh = get_str(answer, "downloadUrl")
        if not fresh or fresh == TOO_LARGE_MARKER:
            raise DownloadError(
                "Green API downloadFile answered without a usable downloadUrl",
                status_code=200,
                retryable=False,
            )
        return await read_capped(
            self._client,
            fresh,
            max_bytes=max_bytes,
            what="Green API downloadFile link",
            filename=ref.filename,
        )

    def _trusted_link(self, channel: Channel, url: str) -> bool:
        """Whether a notification's downloadUrl may be fetched as it is: a Green API storage host
        over HTTPS, or the instance's own API host. Anyone holding the webhook token could name
        any address here (a cloud metadata endpoint, an internal service); another link is
        not fetched, and downloadFile asks the API itself for one (docs/providers.md, G21)."""
        link = urlsplit(url)
        own = urlsplit((channel.api_url or self._settings.url).rstrip("/"))
        if (link.scheme, link.netloc) == (own.scheme, own.netloc):
            return True
        host = (link.hostname or "").lower()
        trusted = link.scheme == "https" and host.endswith(_STORAGE_HOST_SUFFIXES)
        if not trusted:
            logger.warning("downloadUrl on a host that is not Green API's: %s", host or url[:80])
        return trusted

    @staticmethod
    def _receipt(method: str, answer: JSONObject) -> SendReceipt:
        message_id = get_str(answer, "idMessage")
        if not message_id:
            # The send may well be queued: retrying could deliver it twice (docs/providers.md, G9).
            raise SendError(
                f"Green API {method} answered 200 without an idMessage",
                status_code=200,
                retryable=False,
            )
        return SendReceipt(provider_message_id=message_id)

    async def get_state(self, channel: Channel) -> str:
        """The instance's stateInstance: authorized, notAuthorized, blocked, ... (docs/providers.md,
        G7)."""
        answer = await self._call(channel, "getStateInstance", None)
        state = get_str(answer, "stateInstance")
        if not state:
            raise SendError(
                "Green API getStateInstance answered without a stateInstance",
                status_code=200,
                retryable=True,
            )
        return state

    async def receive_notification(
        self, channel: Channel, *, wait_seconds: int
    ) -> Notification | None:
        """GET receiveNotification: the head of the queue, or None once `wait_seconds` passed
        with nothing to receive (docs/providers.md, G17). It stays the head until deleted."""
        answer = await self._request(
            channel,
            "receiveNotification",
            "GET",
            suffix=f"?receiveTimeout={wait_seconds}",
            answer_within=self._settings.timeout_seconds + wait_seconds,
        )
        if answer is None:
            return None
        receipt = answer.get("receiptId") if isinstance(answer, dict) else None
        if (
            not isinstance(answer, dict)
            or isinstance(receipt, bool)
            or not isinstance(receipt, int)
        ):
            raise SendError(
                "Green API receiveNotification answered without a receiptId",
                status_code=200,
                retryable=False,
            )
        return Notification(receipt_id=receipt, body=answer.get("body"))

    async def delete_notification(self, channel: Channel, receipt_id: int) -> bool:
        """DELETE deleteNotification/{receiptId}; False when it was deleted already."""
        answer = await self._request(
            channel, "deleteNotification", "DELETE", suffix=f"/{receipt_id}"
        )
        return isinstance(answer, dict) and answer.get("result") is True

    async def last_incoming_messages(self, channel: Channel, *, minutes: int) -> list[JSONObject]:
        """GET lastIncomingMessages: the journal of the instance's incoming messages of the last
        `minutes`, newest first (docs/providers.md, G18)."""
        return await self._journal(channel, "lastIncomingMessages", minutes)

    async def last_outgoing_messages(self, channel: Channel, *, minutes: int) -> list[JSONObject]:
        """GET lastOutgoingMessages: what the number sent in the last `minutes`, from the phone
        and through the API (`sendByApi`), newest first (docs/providers.md, G19)."""
        return await self._journal(channel, "lastOutgoingMessages", minutes)

    async def _journal(self, channel: Channel, method: str, minutes: int) -> list[JSONObject]:
        answer = await self._request(channel, method, "GET", suffix=f"?minutes={minutes}")
        if not isinstance(answer, list):
            return []
        return [entry for entry in answer if isinstance(entry, dict)]

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter made it; an injected one belongs to its owner."""
        if self._owns_client:
            await self._client.aclose()

    async def _call(
        self,
        channel: Channel,
        method: str,
        body: dict[str, Any] | None,
        *,
        files: _Files | None = None,
    ) -> JSONObject:
        """One call whose answer is an object (GET without a body, POST with one)."""
        http_method: HTTPMethod = "GET" if body is None else "POST"
        answer = await self._request(channel, method, http_method, body=body, files=files)
        return answer if isinstance(answer, dict) else {}

    async def _request(
        self,
        channel: Channel,
        method: str,
        http_method: HTTPMethod,
        *,
        body: dict[str, Any] | None = None,
        files: _Files | None = None,
        suffix: str = "",
        answer_within: float | None = None,
    ) -> object:
        """One API call, retried with exponential backoff on failures that may pass (3.4);
        the answer as read by kit/json_input.read_json."""
        token = channel.api_token or ""
        if not token:
            raise SendError(
                f"channel {channel.external_id} has no Green API token",
                status_code=None,
                retryable=False,
            )
        url = self._url(channel, method, token) + suffix
        attempts = max(1, self._settings.max_attempts)
        failure = SendError("not attempted", status_code=None, retryable=True)
        for attempt in range(1, attempts + 1):
            await self._pace(channel.external_id, method)
            outcome = await self._attempt(
                url, method, http_method, body, token, files, answer_within
            )
            if not isinstance(outcome, SendError):
                return outcome
            if not outcome.retryable:
                raise outcome
            if outcome.ambiguous and method not in _SAFE_TO_REPEAT:
                # No idempotency key (docs/providers.md, G9): hand it back to the outbox, which
                # waits
                # for the echo webhook to tell whether the first request got through.
                raise outcome
            failure = outcome
            logger.warning(
                "Green API %s for instance %s failed (attempt %d of %d): %s",
                method,
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

    async def _attempt(
        self,
        url: str,
        method: str,
        http_method: HTTPMethod,
        body: dict[str, Any] | None,
        token: str,
        files: _Files | None,
        answer_within: float | None,
    ) -> object:
        """One HTTP request; errors are returned, and their text never holds the URL or token."""
        wait = httpx.Timeout(answer_within) if answer_within is not None else self._client.timeout
        try:
            if http_method == "GET":
                response = await self._client.get(url, timeout=wait)
            elif http_method == "DELETE":
                response = await self._client.delete(url, timeout=wait)
            elif files is not None:
                response = await self._client.post(url, data=body, files=files, timeout=wait)
            else:
                response = await self._client.post(url, json=body, timeout=wait)
        except httpx.TransportError as exc:
            return transport_failure(f"Green API {method}", exc)
        return _read_answer(response, method, token)

    def _url(self, channel: Channel, method: str, token: str) -> str:
        """{apiUrl}/waInstance{id}/{method}/{token} (docs/providers.md, G1): a secret, never
        logged."""
        base = (channel.api_url or self._settings.url).rstrip("/")
        if method in _MEDIA_METHODS:
            base = media_host(base)
        instance = quote(channel.external_id, safe="")
        return f"{base}/waInstance{instance}/{method}/{quote(token, safe='')}"

    async def _pace(self, external_id: str, method: str) -> None:
        if method in _MIN_INTERVAL_SECONDS:
            interval = _MIN_INTERVAL_SECONDS[method]
        else:
            per_second = self._settings.sends_per_second
            interval = 1.0 / per_second if per_second > 0 else 0.0
        pacer = self._pacers.setdefault((external_id, method), _Pacer())
        await pacer.wait(interval)


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header lookup that works for plain dicts as well as case-insensitive header maps."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _read_answer(response: httpx.Response, method: str, token: str) -> object:
    """The JSON of a 200 (a notification's body is read here as a webhook's is), else the
    SendError its status means."""
    status = response.status_code
    if status == 200:
        try:
            return read_json(response.content)
        except UnreadableJSON:
            return SendError(
                f"Green API {method} answered 200 with a body that is not JSON",
                status_code=200,
                retryable=False,
            )
    retryable = status in _RETRYABLE_STATUS or status >= 500
    detail = _provider_detail(response, token)
    return SendError(
        f"Green API {method} answered {status}: {detail}",
        status_code=status,
        retryable=retryable,
        ambiguous=status in _AMBIGUOUS_STATUS,
    )


def _provider_detail(response: httpx.Response, token: str) -> str:
    """The provider's own words for a failure, with the token cut out and the length bounded.

    Error bodies may echo the request path, and the path holds the token (docs/providers.md, G1).
    """
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        text = first_str(answer, "message", "error", "description") or _nested_description(answer)
    else:
        text = ""
    text = text or response.text or response.reason_phrase
    text = text.replace(token, "***") if token else text
    text = re.sub(r"\s+", " ", text).strip()
    return text[:_MAX_DETAIL_CHARS]


def _nested_description(answer: JSONObject) -> str:
    """The 466 quota body nests its explanation one level down (docs/providers.md, G9)."""
    for value in answer.values():
        if isinstance(value, dict):
            description = get_str(value, "description")
            if description:
                return description
    return ""
