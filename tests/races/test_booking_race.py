"""Twenty customers, one slot, two worker processes: the assistant gives it to exactly one.

Each customer asks to see the same flat and is offered the same first free times; then all
twenty answer "1" at once. Their replies are drafted in two `worker` processes on PostgreSQL,
each booking in its own transaction. The database's unique index on active viewings lets one
booking commit; each of the others is told the time was just taken and is offered the next
free ones (docs/decisions.md, 21).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import INSTANCE, WEBHOOK_TOKEN, eventually, rows_settled
from tests.fakes.green_api import FakeGreenAPI
from tests.races.conftest import Processes, customer_text, processes  # noqa: F401 - fixture
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.scheduling.models import Viewing

pytestmark = pytest.mark.postgres

CUSTOMERS = 20
POOLS = {"DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "2", "DATABASE_JOB_POOL_MAX": "6"}


def _chat(number: int) -> str:
    return f"3519300{number:05d}@c.us"


async def _post_all(http: httpx.AsyncClient, text: str, round_: int) -> None:
    hooks = [
        http.post(
            "/webhooks/green-api",
            json=customer_text(_chat(n), f"3EB0RACE{round_:02d}{n:010d}", text),
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        )
        for n in range(CUSTOMERS)
    ]
    answers = await asyncio.gather(*hooks)
    assert [answer.status_code for answer in answers] == [200] * CUSTOMERS


async def _answered(db: Database, count: int) -> bool:
    async with db.session_scope() as session:
        stmt = select(func.count()).select_from(Message).where(Message.author == "ai")
        return int(await session.scalar(stmt) or 0) >= count


async def _offers(db: Database) -> list[list[str]]:
    """Each conversation's newest offer, as stored with the reply."""
    async with db.session_scope() as session:
        offers: list[list[str]] = []
        for conversation in (await session.execute(select(Conversation.id))).scalars():
            stmt = (
                select(Message.data)
                .where(Message.conversation_id == conversation, Message.author == "ai")
                .order_by(Message.created_at.desc())
                .limit(1)
            )
            data = (await session.execute(stmt)).scalar_one()
            offers.append(list(data["offer"]["slots"]))
        return offers


async def test_twenty_customers_answering_one_slot_at_once_leave_one_booking(
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    processes: Processes,  # noqa: F811 - the fixture imported above
) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    _, base = await processes.serve(WORKER_IN_PROCESS="false", **POOLS)
    await processes.workers(2, **POOLS)
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=60) as http:
        channel = await http.post(
            "/api/v1/channels",
            headers=api_account.headers,
            json={
                "type": "green_api",
                "id_instance": INSTANCE,
                "api_token": fake_green_api.token,
                "api_url": fake_green_api.base_url,
                "webhook_token": WEBHOOK_TOKEN,
            },
        )
        assert channel.status_code == 201, channel.text
        await _post_all(http, "Can I see the Graça flat?", 1)
        await eventually(lambda: _answered(db, CUSTOMERS), within=90)
        offers = await _offers(db)
        first = offers[0][0]
        assert all(offer[0] == first for offer in offers), "all were offered the same time"

        await _post_all(http, "1", 2)
        await eventually(lambda: _answered(db, 2 * CUSTOMERS - 1), within=90)
    await rows_settled(db, within=60)

    async with db.session_scope() as session:
        booked = list((await session.execute(select(Viewing))).scalars())
    assert [viewing.starts_at for viewing in booked] == [datetime.fromisoformat(first)]
    texts = [sent["message"] for sent in fake_green_api.sent_messages]
    assert sum("is booked for" in text for text in texts) == 1
    taken = [text for text in texts if text.startswith("Sorry, that time has just been taken.")]
    assert len(taken) == CUSTOMERS - 1
    assert all("1)" in text for text in taken)  # with the next free times
    later = await _offers(db)
    assert sum(1 for offer in later if offer[0] > first) == CUSTOMERS - 1
