"""Channel routes: connect a Green API instance, list channels (secrets never returned)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from whatsapp_assistant.channels import service as channels
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.schemas import ChannelCreated, ChannelRead, GreenAPIChannelCreate
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep, StateDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/channels", tags=["channels"], route_class=JSONBodyRoute)


def _read(channel: Channel, base_url: str) -> ChannelRead:
    read = ChannelRead.model_validate(channel)
    if channel.type == "green_api":
        read.webhook_url = base_url.rstrip("/") + "/webhooks/green-api"
    return read


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 403, 409, 422))
async def connect_channel(
    body: GreenAPIChannelCreate, session: SessionDep, caller: CallerDep, state: StateDep
) -> ChannelCreated:
    """Connect a Green API instance. The answer carries the webhook URL and token once."""
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


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404, 422),
)
async def disconnect_channel(channel_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> None:
    await channels.disconnect(session, caller.account_id, channel_id)
