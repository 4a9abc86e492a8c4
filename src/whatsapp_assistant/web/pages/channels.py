"""The Channels page: connected numbers, connecting a Green API instance, checking, removing;
Meta's form and templates are meta_channels.py's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels import templates, usage
from whatsapp_assistant.channels.models import Channel, ReceiveMode
from whatsapp_assistant.channels.schemas import GreenAPIChannelCreate
from whatsapp_assistant.channels.service import ChannelTaken, ConnectionCheck
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import commit_before_waiting
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.forms import field_errors, posted_text
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

CONNECT_FIELDS = ("name", "id_instance", "api_token", "api_url")
FIELD_MESSAGES = {
    "name": "Use at most 200 characters.",
    "id_instance": "Enter the instance id from Green API's console: digits only, e.g. 1101823456.",
    "api_token": "Enter the API token (apiTokenInstance) from Green API's console.",
    "api_url": "Enter the API URL from Green API's console, starting with https://.",
}
REFUSED = (
    "Green API refused the instance id or token. Copy both again from the instance's page in "
    "Green API's console."
)

STATE_LABELS = {
    "authorized": "Linked",
    "notAuthorized": "Not linked",
    "blocked": "Blocked",
    "sleepMode": "Phone offline",
    "starting": "Starting",
    "yellowCard": "Sending suspended",
    "unknown": "Not checked yet",
}
# What the person has to do for each state Green API reports (docs/providers.md, G7).
STATE_ADVICE = {
    "authorized": "Connected: WhatsApp is linked.",
    "notAuthorized": (
        "WhatsApp is not linked to this instance. Open the instance in Green API's console and "
        "scan its QR code with your phone (WhatsApp › Settings › Linked devices › Link a device), "
        "then check again."
    ),
    "blocked": (
        "WhatsApp has blocked this number. Nothing can be sent or received; contact Green API's "
        "support."
    ),
    "sleepMode": (
        "Your phone seems to be off or offline. Switch it on, connect it to the internet, then "
        "check again."
    ),
    "starting": (
        "The instance is starting, which takes up to 5 minutes (for example after its settings "
        "changed). Check again in a few minutes."
    ),
    "yellowCard": (
        "WhatsApp has suspended sending from this number for suspected spam. Reboot the instance "
        "in Green API's console, then check again."
    ),
}

PURPOSE_LABELS = {
    "followup": "Follow-up",
    "reminder": "Viewing reminder",
    "after_viewing": "After a viewing",
}

Tone = Literal["ok", "warn", "bad"]


@dataclass(frozen=True)
class CheckMessage:
    text: str
    tone: Tone


def webhook_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/webhooks/green-api"


def state_tone(state: str) -> Tone:
    if state == "authorized":
        return "ok"
    return "bad" if state in {"blocked", "yellowCard"} else "warn"


def state_message(state: str) -> CheckMessage:
    text = STATE_ADVICE.get(state) or (
        f"Green API reports the state “{state}”. Open the instance in Green API's console to see "
        "what it needs, then check again."
    )
    return CheckMessage(text, state_tone(state))


def check_message(channel: Channel, result: str, status: int | None) -> CheckMessage | None:
    """The words for a check's outcome; a state is read from the row the check updated."""
    if result == "state":
        return state_message(channel.state)
    if result == "refused":
        return CheckMessage(REFUSED, "bad")
    if result == "unreachable":
        return CheckMessage(
            f"Could not reach {channel.api_url}. Check that this is the API URL shown in Green "
            "API's console and that Green API is up, then check again.",
            "bad",
        )
    if result == "failed":
        code = f" (HTTP {status})" if status else ""
        return CheckMessage(
            f"Green API answered with an error{code}. Try again in a minute; if it persists, "
            "look at the instance in Green API's console.",
            "bad",
        )
    return None


def check_query(channel_id: uuid.UUID, check: ConnectionCheck) -> str:
    """Where a check's outcome travels on the redirect: fixed codes, never provider text."""
    query = f"/channels?checked={channel_id}&result={check.outcome}"
    return query + (f"&status={check.status_code}" if check.status_code else "")


def _checked(request: Request, rows: Sequence[Channel]) -> dict[uuid.UUID, CheckMessage]:
    """The check result the link names, for a channel of this account only."""
    params = request.query_params
    status = params.get("status", "")
    for channel in rows:
        if str(channel.id) == params.get("checked"):
            message = check_message(
                channel, params.get("result", ""), int(status) if status.isdigit() else None
            )
            return {channel.id: message} if message else {}
    return {}


async def render(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: Settings,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    meta_form: Mapping[str, str] | None = None,
    meta_errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = await channels.list_channels(session, user.account_id)
    meta_ids = [row.id for row in rows if row.type == "meta_cloud"]
    context: dict[str, Any] = {
        "usage": await usage.billable_counts(session, user.account_id, meta_ids),
        "mappings": {
            channel_id: await templates.list_mappings(session, user.account_id, channel_id)
            for channel_id in meta_ids
        },
        "purpose_labels": PURPOSE_LABELS,
        "meta_form": meta_form or {},
        "meta_errors": meta_errors or {},
        "channels": rows,
        "checked": _checked(request, rows),
        "state_labels": STATE_LABELS,
        "state_tone": state_tone,
        "webhook_url": webhook_url(settings),
        "meta_webhook_url": settings.public_base_url.rstrip("/") + "/webhooks/meta",
        "form": form or {"api_url": settings.green_api.url},
        "errors": errors or {},
    }
    return page(request, user, "channels/list.html", context, status_code=status_code)


@router.get("/channels")
async def channels_page(
    request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    return await render(request, session, user, state.settings)


@router.post("/channels")
async def connect(
    request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """Connect, after asking Green API about the instance: credentials it refuses are not kept."""
    typed = await posted_text(request, CONNECT_FIELDS)
    kept = {name: value for name, value in typed.items() if name != "api_token"}
    try:
        data = GreenAPIChannelCreate.model_validate(
            {**typed, "type": "green_api", "api_url": typed["api_url"] or None}
        )
    except ValidationError as exc:
        errors = field_errors(exc, FIELD_MESSAGES)
        return await render(
            request, session, user, state.settings, form=kept, errors=errors, status_code=422
        )
    channel = channels.new_green_api_channel(
        user.account_id, data, default_url=state.settings.green_api.url
    )
    await commit_before_waiting(session)
    check = await channels.check_connection(state.runtime.channels, channel)
    if check.outcome == "refused":
        errors = {"api_token": REFUSED}
        return await render(
            request, session, user, state.settings, form=kept, errors=errors, status_code=422
        )
    try:
        await channels.save_new_channel(session, channel)
    except ChannelTaken:
        errors = {"id_instance": "This Green API instance is already connected."}
        return await render(
            request, session, user, state.settings, form=kept, errors=errors, status_code=409
        )
    return redirect(check_query(channel.id, check), done="channel-connected")


@router.post("/channels/{channel_id}/check")
async def check(
    channel_id: uuid.UUID, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    channel = await channels.get_channel(session, user.account_id, channel_id)
    await commit_before_waiting(session)
    outcome = await channels.check_connection(state.runtime.channels, channel)
    return redirect(check_query(channel.id, outcome))


@router.post("/channels/{channel_id}/receive-mode")
async def set_receive_mode(
    channel_id: uuid.UUID,
    receive_mode: Annotated[ReceiveMode, Form()],
    session: SessionDep,
    user: UserDep,
) -> Response:
    """Webhook or polling; the worker starts or stops pulling within POLLING_SCAN_SECONDS."""
    await channels.set_receive_mode(session, user.account_id, channel_id, receive_mode)
    return redirect("/channels", done="receive-mode-saved")


@router.post("/channels/{channel_id}/disconnect")
async def disconnect(channel_id: uuid.UUID, session: SessionDep, user: UserDep) -> Response:
    await channels.disconnect(session, user.account_id, channel_id)
    return redirect("/channels", done="channel-disconnected")
