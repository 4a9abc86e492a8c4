"""Many listings at once, as the importer and the benchmark write them: one INSERT of many rows,
search columns from the same `search_texts` the mapper events use."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property, search_texts


async def insert_listings(
    session: AsyncSession,
    account_id: uuid.UUID,
    count: int,
    each: Callable[[int], dict[str, Any]] = lambda _: {},
) -> None:
    """`count` listings priced 1000, 1001, …; `each(i)` overrides the values of the i-th."""
    now = utcnow()
    rows = []
    for i in range(count):
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "account_id": account_id,
            "reference": None,
            "title": f"Flat {i}",
            "listing_type": "sale",
            "property_type": "apartment",
            "price": Decimal(1000 + i),
            "currency": "EUR",
            "city": "Lisboa",
            "neighborhood": "Graça",
            "address": None,
            "bedrooms": 2,
            "description": "",
            "features": [],
            "status": "available",
            "created_at": now,
            "updated_at": now,
        } | each(i)
        texts = {name: values[name] for name in ("reference", "title", "city", "neighborhood")}
        texts |= {name: values[name] for name in ("address", "description", "features")}
        rows.append(values | search_texts(**texts))
    await session.execute(insert(Property), rows)
