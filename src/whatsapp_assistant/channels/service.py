"""Connecting channels and finding the channel a webhook or a send belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.channels.schemas import GreenAPIChannelCreate
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.errors import Conflict, NotFound
from whatsapp_assistant.kit.ids import new_token


class ChannelNotFound(NotFound):
    code = "channel_not_found"


class ChannelTaken(Conflict):
    code = "channel_taken"


async def connect_green_api(
    session: AsyncSession, account_id: uuid.UUID, data: GreenAPIChannelCreate, *, default_url: str
) -> Channel:
    channel = Channel(
        account_id=account_id,
        type="green_api",
        name=data.name or f"Green API {data.id_instance}",
        external_id=data.id_instance,
        api_url=str(data.api_url).rstrip("/") if data.api_url else default_url.rstrip("/"),
        api_token=data.api_token,
        webhook_token=data.webhook_token or new_token(nbytes=24),
    )
    try:
        async with session.begin_nested():
            session.add(channel)
    except IntegrityError:
        raise ChannelTaken(
            "this Green API instance is already connected", field="id_instance"
        ) from None
    return channel


async def get_or_create_simulator(session: AsyncSession, account_id: uuid.UUID) -> Channel:
    external_id = f"sim-{account_id}"
    stmt = select(Channel).where(Channel.type == "simulator", Channel.external_id == external_id)
    channel = (await session.execute(stmt)).scalar_one_or_none()
    if channel is None:
        channel = Channel(
            account_id=account_id, type="simulator", name="Simulator", external_id=external_id
        )
        session.add(channel)
        await session.flush()
    return channel


async def find_by_external_id(
    session: AsyncSession, channel_type: str, external_id: str
) -> Channel | None:
    """Webhook routing: not tenant-scoped, the provider's id is what identifies the tenant."""
    stmt = select(Channel).where(
        Channel.type == channel_type, Channel.external_id == external_id, Channel.active.is_(True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_channels(session: AsyncSession, account_id: uuid.UUID) -> Sequence[Channel]:
    stmt = for_account(select(Channel), Channel, account_id).order_by(Channel.created_at)
    return (await session.execute(stmt)).scalars().all()


async def get_channel(
    session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID
) -> Channel:
    stmt = for_account(select(Channel), Channel, account_id).where(Channel.id == channel_id)
    channel = (await session.execute(stmt)).scalar_one_or_none()
    if channel is None:
        raise ChannelNotFound("no such channel")
    return channel


async def disconnect(session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID) -> None:
    channel = await get_channel(session, account_id, channel_id)
    await session.delete(channel)
