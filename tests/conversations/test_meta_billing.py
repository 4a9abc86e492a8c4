"""Billable messages counted from Meta's status pricing, per channel, month and category, once
per message however often the status comes (the database's unique key, not a cache)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select

from tests.conversations.meta_harness import MetaService, meta_fixture
from tests.conversations.test_meta_templates import channel_id
from whatsapp_assistant.channels.models import BillableMessage


def status(wamid: str, state: str, *, billable: bool, category: str = "utility") -> dict[str, Any]:
    payload = copy.deepcopy(meta_fixture("status_delivered"))
    [item] = payload["entry"][0]["changes"][0]["value"]["statuses"]
    item["id"], item["status"] = wamid, state
    item["pricing"] = {
        "billable": billable,
        "pricing_model": "PMP",
        "category": category,
        "type": "regular" if billable else "free_customer_service",
    }
    return payload


async def usage(service: MetaService) -> list[dict[str, Any]]:
    response = await service.client.get(
        f"/api/v1/channels/{await channel_id(service)}/usage", headers=service.account.headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


class TestBillableMessages:
    async def test_a_billable_message_counts_once_however_often_its_status_comes(
        self, meta_service: MetaService
    ) -> None:
        delivered = status("wamid.BILLED1", "delivered", billable=True)
        for _ in range(2):  # a redelivery of the same body
            assert (await meta_service.post_webhook(delivered)).status_code == 200
        # Pricing again on a later status of the same message: another body, the same message.
        await meta_service.post_webhook(status("wamid.BILLED1", "read", billable=True))
        await meta_service.post_webhook(
            status("wamid.BILLED2", "sent", billable=True, category="marketing")
        )
        await meta_service.post_webhook(status("wamid.FREE1", "delivered", billable=False))

        assert await usage(meta_service) == [
            {"month": "2026-11", "category": "marketing", "count": 1},
            {"month": "2026-11", "category": "utility", "count": 1},
        ]
        async with meta_service.db.session_scope() as session:
            rows = await session.scalar(select(func.count()).select_from(BillableMessage))
        assert rows == 2

    async def test_a_channel_with_nothing_billed_shows_nothing(
        self, meta_service: MetaService
    ) -> None:
        await meta_service.post_webhook(status("wamid.FREE2", "delivered", billable=False))
        assert await usage(meta_service) == []
