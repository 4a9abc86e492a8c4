"""Channel routes: connect a Green API instance or a Meta number, list channels (secrets never
returned)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels import templates, usage
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.schemas import (
    BillableCount,
    ChannelCreate,
    ChannelCreated,
    ChannelRead,
    ChannelTemplates,
    ChannelUpdate,
    MetaCloudChannelCreate,
    TemplateMappingRead,
    TemplateMappingUpdate,
    TemplateRead,
)
from whatsapp_assistant.db.session import commit_before_waiting
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep, StateDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/channels", tags=["channels"], route_class=JSONBodyRoute)


def _read(channel: Channel, base_url: str) -> ChannelRead:
    read = ChannelRead.model_validate(channel)
    if channel.type in _WEBHOOK_PATHS:
        read.webhook_url = base_url.rstrip("/") + _WEBHOOK_PATHS[channel.type]
    return read


_WEBHOOK_PATHS = {"green_api": "/webhooks/green-api", "meta_cloud": "/webhooks/meta"}


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 403, 409, 422))
async def connect_channel(
    body: ChannelCreate, session: SessionDep, caller: CallerDep, state: StateDep
) -> ChannelCreated:
    """Connect a Green API instance (the answer carries the webhook URL and token, once) or a
    Meta Cloud API number, checked against Graph before it is saved (the answer carries the
    webhook URL; the secrets given are never returned)."""
    if isinstance(body, MetaCloudChannelCreate):
        channel = channels.new_meta_cloud_channel(
            caller.account_id, body, default_url=state.settings.meta_cloud.graph_url
        )
        await commit_before_waiting(session)
        channel = await channels.connect_checked(session, state.runtime.channels, channel)
        return ChannelCreated(**_read(channel, state.settings.public_base_url).model_dump())
    channel = await channels.connect_green_api(
        session, caller.account_id, body, default_url=state.settings.green_api.url
    )
    read = _read(channel, state.settings.public_base_url)
    return ChannelCreated(**read.model_dump(), webhook_token=channel.webhook_token)


@router.get("")
async def list_channels(
    session: SessionDep, caller: CallerDep, state: StateDep
) -> list[ChannelRead]:
    rows = await channels.list_channels(session, caller.account_id)
    return [_read(channel, state.settings.public_base_url) for channel in rows]


@router.patch("/{channel_id}", responses=error_responses(400, 403, 404, 409, 422))
async def update_channel(
    channel_id: uuid.UUID,
    body: ChannelUpdate,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> ChannelRead:
    """Choose how a Green API channel receives: `webhook`, or `polling` (no public URL)."""
    channel = await channels.set_receive_mode(
        session, caller.account_id, channel_id, body.receive_mode
    )
    return _read(channel, state.settings.public_base_url)


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404, 422),
)
async def disconnect_channel(channel_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> None:
    await channels.disconnect(session, caller.account_id, channel_id)


@router.get("/{channel_id}/templates", responses=error_responses(403, 404, 409, 422, 503))
async def list_templates(
    channel_id: uuid.UUID, session: SessionDep, caller: CallerDep, state: StateDep
) -> ChannelTemplates:
    """A Meta channel's templates as Graph lists them now (with their approval state), and the
    ones mapped to the automated messages sent outside the 24-hour window."""
    channel = await channels.get_channel(session, caller.account_id, channel_id)
    mappings = await templates.list_mappings(session, caller.account_id, channel.id)
    await commit_before_waiting(session)
    listed = await templates.fetch_templates(state.runtime.channels, channel)
    return ChannelTemplates(
        templates=[TemplateRead(**vars(t), approved=t.approved) for t in listed],
        mappings=[TemplateMappingRead.model_validate(m) for m in mappings],
    )


@router.put("/{channel_id}/templates", responses=error_responses(400, 403, 404, 409, 422, 503))
async def map_template(
    channel_id: uuid.UUID,
    body: TemplateMappingUpdate,
    session: SessionDep,
    caller: CallerDep,
    state: StateDep,
) -> list[TemplateMappingRead]:
    """Send this approved template for `purpose` when the window is closed, checked against
    Graph's list before it is saved; `template: null` stops using one (that message is then not
    sent outside the window). Answers the channel's mappings."""
    channel = await channels.get_channel(session, caller.account_id, channel_id)
    if body.template is None:
        await templates.unmap_template(session, channel, body.purpose)
    else:
        await commit_before_waiting(session)
        listed = await templates.fetch_templates(state.runtime.channels, channel)
        choice = body.template
        chosen = templates.check_fits(listed, body.purpose, choice.name, choice.language)
        await templates.map_template(session, channel, body.purpose, chosen)
    mappings = await templates.list_mappings(session, caller.account_id, channel.id)
    return [TemplateMappingRead.model_validate(m) for m in mappings]


@router.get("/{channel_id}/usage", responses=error_responses(403, 404, 422))
async def channel_usage(
    channel_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> list[BillableCount]:
    """Messages Meta reported as billable, per month (UTC) and pricing category."""
    channel = await channels.get_channel(session, caller.account_id, channel_id)
    counts = await usage.billable_counts(session, caller.account_id, [channel.id])
    return [BillableCount(**vars(count)) for count in counts[channel.id]]
