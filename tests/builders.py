"""Typed builders for test rows: each returns the row, flushed, with sensible defaults."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.models import Account, Persona
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling.models import Viewing


async def create_account(
    session: AsyncSession, *, name: str = "Casa Lusa Imóveis", owner_phone: str | None = None
) -> Account:
    account = Account(name=name, owner_phone=owner_phone)
    session.add(account)
    await session.flush()
    session.add(Persona(account_id=account.id, agent_name="Rita Almeida", agency_name=name))
    await session.flush()
    return account


async def create_property(session: AsyncSession, account_id: uuid.UUID, **values: Any) -> Property:
    defaults: dict[str, Any] = {
        "title": "Sunny T2 in Graça with terrace",
        "listing_type": "sale",
        "property_type": "apartment",
        "price": Decimal(372000),
        "currency": "EUR",
        "city": "Lisbon",
        "neighborhood": "Graça",
        "bedrooms": 2,
        "bathrooms": 1,
        "area_sqm": Decimal(74),
        "description": "Bright flat with a terrace and river views.",
        "features": ["terrace", "river view"],
        "status": "available",
    }
    prop = Property(account_id=account_id, **(defaults | values))
    session.add(prop)
    await session.flush()
    return prop


async def create_channel(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    type: str = "green_api",
    external_id: str = "1101823456",
    api_url: str = "",
    api_token: str = "test-token",
    webhook_token: str = "hook-secret",
) -> Channel:
    channel = Channel(
        account_id=account_id,
        type=type,
        external_id=external_id,
        api_url=api_url,
        api_token=api_token,
        webhook_token=webhook_token,
        own_chat_id="351210000000@c.us",
    )
    session.add(channel)
    await session.flush()
    return channel


# A time every walk of the routes can book by hand: far enough ahead never to be in the past.
HAND_BOOKED_AT = "2031-03-03T11:00:00+00:00"


async def book_by_hand(client: Any, headers: dict[str, str], property_id: str) -> str:
    """Book a viewing of the listing as the agent does through the API; its id."""
    body = {"property_id": property_id, "starts_at": HAND_BOOKED_AT, "customer_name": "James"}
    viewing = await client.post("/api/v1/viewings", headers=headers, json=body)
    assert viewing.status_code == 201, viewing.text
    return str(viewing.json()["id"])


async def create_viewing(
    session: AsyncSession,
    account_id: uuid.UUID,
    property_id: uuid.UUID,
    *,
    starts_at: datetime,
    minutes: int = 30,
    **values: Any,
) -> Viewing:
    """A viewing row as it is stored, at any time (past ones included) and in any status."""
    defaults: dict[str, Any] = {
        "status": "confirmed",
        "customer_name": "Ana Sousa",
        "booked_by": "agent",
    }
    viewing = Viewing(
        account_id=account_id,
        property_id=property_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        **(defaults | values),
    )
    session.add(viewing)
    await session.flush()
    return viewing
