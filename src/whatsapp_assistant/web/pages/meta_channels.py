"""The Channels page's Meta parts: connecting a Cloud API number (checked against Graph, secrets
never shown back) and choosing the templates sent outside the 24-hour window."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels import templates
from whatsapp_assistant.channels.models import TemplatePurpose
from whatsapp_assistant.channels.schemas import MetaCloudChannelCreate, TemplateMappingUpdate
from whatsapp_assistant.channels.service import ChannelRefused, ChannelTaken, ProviderUnreachable
from whatsapp_assistant.db.session import commit_before_waiting
from whatsapp_assistant.errors import DomainError
from whatsapp_assistant.web.deps import SessionDep, StateDep, UserDep
from whatsapp_assistant.web.pages.channels import PURPOSE_LABELS, render
from whatsapp_assistant.web.pages.forms import field_errors, posted_text
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

META_FIELDS = (
    "meta_name",
    "phone_number_id",
    "waba_id",
    "access_token",
    "app_secret",
    "verify_token",
    "graph_url",
)
SECRETS = ("access_token", "app_secret", "verify_token")
META_MESSAGES = {
    "meta_name": "Use at most 200 characters.",
    "phone_number_id": "Enter the phone number id from WhatsApp › API Setup: digits only.",
    "waba_id": "Enter the WhatsApp Business Account id from WhatsApp › API Setup: digits only.",
    "access_token": "Enter the access token (at least 8 characters, no spaces).",
    "app_secret": "Enter the app secret from App settings › Basic (at least 8 characters).",
    "verify_token": "Choose a verify token of at least 8 characters, no spaces.",
    "graph_url": "Leave empty, or enter a Graph URL starting with https://.",
}


@router.post("/channels/meta")
async def connect_meta(
    request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """Connect a Meta number after Graph knows it under this token (the API's own check)."""
    typed = await posted_text(request, META_FIELDS)
    kept = {name: value for name, value in typed.items() if name not in SECRETS}
    body: dict[str, Any] = {name: value for name, value in typed.items() if name != "meta_name"}
    body |= {
        "type": "meta_cloud",
        "name": typed["meta_name"],
        "graph_url": typed["graph_url"] or None,
    }
    settings = state.settings
    try:
        data = MetaCloudChannelCreate.model_validate(body)
    except ValidationError as exc:
        errors = field_errors(exc, lambda f, _e: META_MESSAGES.get(_form_name(f), "Check this."))
        errors = {_form_name(name): text for name, text in errors.items()}
        return await render(
            request, session, user, settings, meta_form=kept, meta_errors=errors, status_code=422
        )
    channel = channels.new_meta_cloud_channel(
        user.account_id, data, default_url=settings.meta_cloud.graph_url
    )
    await commit_before_waiting(session)
    try:
        await channels.connect_checked(session, state.runtime.channels, channel)
    except (ChannelRefused, ProviderUnreachable, ChannelTaken) as exc:
        errors = {_form_name(exc.field or "phone_number_id"): _sentence(exc.message)}
        status = 409 if isinstance(exc, ChannelTaken) else 422
        return await render(
            request, session, user, settings, meta_form=kept, meta_errors=errors, status_code=status
        )
    return redirect("/channels", done="channel-connected")


def _form_name(field: str) -> str:
    return "meta_name" if field == "name" else field


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.get("/channels/{channel_id}/templates")
async def templates_page(
    channel_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """The number's templates as Graph lists them now, and the one chosen for each message."""
    channel = await channels.get_channel(session, user.account_id, channel_id)
    mappings = {
        m.purpose: m for m in await templates.list_mappings(session, user.account_id, channel.id)
    }
    await commit_before_waiting(session)
    problem = ""
    try:
        listed = list(await templates.fetch_templates(state.runtime.channels, channel))
    except DomainError as exc:
        listed, problem = [], _sentence(exc.message)
    context = {
        "channel": channel,
        "templates": listed,
        "mappings": mappings,
        "purposes": [
            (p.value, PURPOSE_LABELS[p.value], templates.PARAMETERS[p]) for p in TemplatePurpose
        ],
        "problem": problem,
        "errors": {},
    }
    return page(request, user, "channels/templates.html", context)


@router.post("/channels/{channel_id}/templates")
async def map_template(
    channel_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep, state: StateDep
) -> Response:
    """`template` is "name|language" from the list, or empty to stop using one for `purpose`;
    only an approved one that fits is saved (the API's own checks)."""
    channel = await channels.get_channel(session, user.account_id, channel_id)
    typed = await posted_text(request, ("purpose", "template"))
    name, _, language = typed["template"].partition("|")
    try:
        chosen_text = {"name": name, "language": language} if name else None
        data = TemplateMappingUpdate.model_validate(
            {"purpose": typed["purpose"], "template": chosen_text}
        )
    except ValidationError:
        raise templates.TemplateNotFound(
            "choose a message and one of the listed templates", field="template"
        ) from None
    if data.template is None:
        await templates.unmap_template(session, channel, data.purpose)
        return redirect(f"/channels/{channel.id}/templates", done="template-removed")
    await commit_before_waiting(session)
    listed = await templates.fetch_templates(state.runtime.channels, channel)
    choice = data.template
    chosen = templates.check_fits(listed, data.purpose, choice.name, choice.language)
    await templates.map_template(session, channel, data.purpose, chosen)
    return redirect(f"/channels/{channel.id}/templates", done="template-mapped")
