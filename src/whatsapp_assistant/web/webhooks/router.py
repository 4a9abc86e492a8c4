"""Provider webhooks: authenticate, store, commit, answer 200 fast; the reply comes from a job.

A webhook never answers 5xx because of its payload (docs/architecture.md, invariant 7): Green API
re-sends a refused
notification every 60 s and holds back every later one of that number (docs/providers.md, G3).
Only an outage of our own database answers 503, so that nothing is lost (docs/architecture.md,
invariant 1).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import OperationalError

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.base import ChannelAdapter
from whatsapp_assistant.channels.errors import PayloadError, PayloadTooLarge
from whatsapp_assistant.channels.registry import adapter_for
from whatsapp_assistant.channels.types import ParsedWebhook
from whatsapp_assistant.conversations.ingest import record_webhook
from whatsapp_assistant.conversations.receive import receive
from whatsapp_assistant.kit.json_input import UnreadableJSON, read_json
from whatsapp_assistant.web.deps import StateDep
from whatsapp_assistant.web.errors import error_body

logger = logging.getLogger(__name__)

webhook_router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status)


async def _read_json(request: Request, limit: int) -> tuple[bytes, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"body larger than {limit} bytes")
    try:
        return body, read_json(body)
    except UnreadableJSON as exc:
        raise PayloadError(str(exc)) from None


@webhook_router.post("/green-api", summary="Green API notifications (webhook endpoint mode)")
async def green_api_webhook(request: Request, state: StateDep) -> JSONResponse:
    return await _receive("green_api", request, state)


@webhook_router.get("/meta", summary="Meta's webhook verification handshake")
async def meta_verification(
    state: StateDep,
    mode: str = Query(default="", alias="hub.mode", max_length=40),
    verify_token: str = Query(default="", alias="hub.verify_token", max_length=500),
    challenge: str = Query(default="", alias="hub.challenge", max_length=200),
) -> Response:
    """Echo `hub.challenge` as text when `hub.verify_token` is a connected Meta channel's
    (docs/providers.md, M2); anything else answers 403."""
    async with state.db.session_scope() as session:
        channel = await channels.find_by_verify_token(session, verify_token)
    if mode != "subscribe" or channel is None or not challenge:
        return _error(403, "verification_refused", "wrong verify token or not a subscription")
    return PlainTextResponse(challenge)


@webhook_router.post("/meta", summary="Meta WhatsApp Cloud API notifications")
async def meta_webhook(request: Request, state: StateDep) -> JSONResponse:
    return await _receive("meta_cloud", request, state)


async def _receive(provider: str, request: Request, state: StateDep) -> JSONResponse:
    adapter = adapter_for(state.runtime.channels, provider)
    try:
        body, payload = await _read_json(request, state.settings.webhook.max_bytes)
        parsed = adapter.parse_webhook(payload)
    except PayloadError as exc:
        status = 413 if isinstance(exc, PayloadTooLarge) else 400
        return _error(status, exc.code, exc.message)
    if not parsed.external_id:
        # Meta's fields other than `messages` name no number, so no channel (and no secret)
        # to check them with: acknowledged, not kept (docs/decisions.md, 27).
        return JSONResponse({"status": "ignored", "stored": 0})
    try:
        return await _store(adapter, request, state, body, payload, parsed)
    except OperationalError:
        # The database is down or locked: not the payload's fault, and nothing may be lost.
        logger.exception("database unavailable while storing a %s webhook", provider)
        return _error(503, "unavailable", "storage unavailable, retry later")
    except Exception:
        return await _keep_unprocessable(provider, state, payload, parsed)


async def _store(
    adapter: ChannelAdapter,
    request: Request,
    state: StateDep,
    body: bytes,
    payload: Any,
    parsed: ParsedWebhook,
) -> JSONResponse:
    async with state.db.session_scope() as session:
        channel = await channels.find_for_webhook(
            session,
            adapter.name,
            parsed.external_id,
            cache_seconds=state.settings.webhook.channel_cache_seconds,
        )
        # Unknown number and wrong token answer alike: nothing tells a caller which ids exist.
        if channel is None or not adapter.authenticate(channel, request.headers, body):
            return _error(401, *_REFUSED.get(adapter.name, _REFUSED["green_api"]))
        result = await receive(state.runtime, session, channel, parsed, raw=payload)
    return JSONResponse({"status": result.outcome, "stored": result.stored})


_REFUSED = {
    "green_api": ("invalid_webhook_token", "unknown channel or wrong token"),
    "meta_cloud": ("invalid_signature", "unknown phone number id or wrong signature"),
}


async def _keep_unprocessable(
    provider: str, state: StateDep, payload: Any, parsed: ParsedWebhook
) -> JSONResponse:
    """A payload that broke our processing: keep it for replay, log, and still answer 200."""
    logger.exception("could not process a %s webhook (%s)", provider, parsed.event_type)
    detail = traceback.format_exc(limit=3)
    try:
        async with state.db.session_scope() as session:
            await record_webhook(
                session,
                provider=provider,
                channel=None,
                parsed=None,
                payload=payload,
                outcome="error",
                detail=detail,
            )
    except Exception:
        logger.exception("could not even record the failed webhook")
        return _error(503, "unavailable", "storage unavailable, retry later")
    return JSONResponse({"status": "error_logged"})
