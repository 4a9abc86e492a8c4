"""A running service wired to the loopback fakes; helpers to post webhooks and wait for sends."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import procrastinate
from sqlalchemy import func, or_, select

from tests.conftest import ApiAccount, lifespan
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.conversations.runtime import (
    FETCH_MEDIA_JOB,
    REPLY_JOB,
    SCHEDULED_JOB,
    SEND_JOB,
    Runtime,
)
from whatsapp_assistant.conversations.states import MessageStatus, Mode
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.web.deps import AppState

FIXTURES = Path(__file__).parents[1] / "fixtures" / "greenapi"
WEBHOOK_TOKEN = "hook-secret-0123456789abcdef"
INSTANCE = "1101823456"
JAMES = "447700900123@c.us"
ANA = "351912345678@c.us"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


# How long a wait for work that should happen gives it: generous, because a shared machine can
# be slow; a passing test never waits it out.
PATIENCE = 30.0


def customer_text(
    text: str | None = None,
    *,
    chat_id: str | None = None,
    message_id: str | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    """The incoming_text webhook (James's) with another text (or its own) and a fresh id; or
    written by another customer (`chat_id`), with a given id, to another Green API instance
    (`instance`, another account's number)."""
    payload = copy.deepcopy(fixture("incoming_text"))
    payload["idMessage"] = message_id or uuid.uuid4().hex.upper()[:20]
    if instance is not None:
        payload["instanceData"]["idInstance"] = int(instance)  # docs/providers.md, G13
    if chat_id is not None:
        payload["senderData"] |= {"chatId": chat_id, "sender": chat_id}
    if text is not None:
        payload["messageData"]["textMessageData"]["textMessage"] = text
    return payload


def journal_entry(
    text: str, *, chat_id: str = JAMES, minutes_ago: float = 0, message_id: str | None = None
) -> dict[str, Any]:
    """One lastIncomingMessages entry (docs/providers.md, G18)."""
    return {
        "type": "incoming",
        "idMessage": message_id or uuid.uuid4().hex.upper()[:20],
        "timestamp": int(time.time() - minutes_ago * 60) + (1 if minutes_ago == 0 else 0),
        "typeMessage": "textMessage",
        "chatId": chat_id,
        "senderId": chat_id,
        "senderName": "James" if chat_id == JAMES else "Ana",
        "senderContactName": "",
        "textMessage": text,
    }


def phone_journal_entry(
    text: str, *, chat_id: str = JAMES, minutes_ago: float = 0, by_api: bool = False
) -> dict[str, Any]:
    """One lastOutgoingMessages entry (docs/providers.md, G19): typed on the phone unless
    `by_api`."""
    return {
        "type": "outgoing",
        "idMessage": uuid.uuid4().hex.upper()[:20],
        "timestamp": int(time.time() - minutes_ago * 60) + (1 if minutes_ago == 0 else 0),
        "statusMessage": "delivered",
        "sendByApi": by_api,
        "typeMessage": "textMessage",
        "chatId": chat_id,
        "textMessage": text,
    }


@dataclass
class Service:
    """The application under test, its HTTP client and the account that owns the channel."""

    client: httpx.AsyncClient
    db: Database
    account: ApiAccount
    green_api: FakeGreenAPI
    runtime: Runtime

    async def post_webhook(
        self, payload: object, *, token: str = WEBHOOK_TOKEN, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        content = raw if raw is not None else json.dumps(payload).encode()
        return await self.client.post("/webhooks/green-api", content=content, headers=headers)

    async def wait_for_sends(self, count: int, within: float = PATIENCE) -> list[dict[str, Any]]:
        await wait_until(lambda: len(self.green_api.sent_messages) >= count, within)
        return list(self.green_api.sent_messages)

    async def messages(self, **where: object) -> list[Message]:
        async with self.db.session_scope() as session:
            stmt = select(Message).order_by(Message.created_at)
            for name, value in where.items():
                stmt = stmt.where(getattr(Message, name) == value)
            return list((await session.execute(stmt)).scalars())

    async def conversations(self) -> list[Conversation]:
        async with self.db.session_scope() as session:
            return list((await session.execute(select(Conversation))).scalars())


async def wait_until(condition: Callable[[], bool], within: float = PATIENCE) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = PATIENCE) -> None:
    """Poll an async condition (usually a database read) until it holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def pending_jobs(runtime: Runtime) -> list[procrastinate.jobs.Job]:
    """Reply, send and file-fetch jobs still to run or running, and scheduled messages' jobs
    due by now (a follow-up's job waits a day of the queue's own time: the sweep wakes it when
    the clock is moved forward, kit/clock.py)."""
    manager = runtime.queue.app.job_manager
    jobs = [
        job for status in ("todo", "doing") for job in await manager.list_jobs_async(status=status)
    ]
    now = datetime.now(UTC)
    return [
        job
        for job in jobs
        if job.task_name in (REPLY_JOB, SEND_JOB, FETCH_MEDIA_JOB)
        or (
            job.task_name == SCHEDULED_JOB
            and (job.status == "doing" or job.scheduled_at is None or job.scheduled_at <= now)
        )
    ]


async def _idle(runtime: Runtime, conversation_ids: tuple[object, ...]) -> bool:
    """No reply or send job of these conversations (or of any) is waiting or running, and none
    of their outbound rows is still waiting to leave."""
    wanted = {str(cid) for cid in conversation_ids}
    async with runtime.db.session_scope() as session:
        stmt = select(Message.id, Message.conversation_id, Message.status)
        if wanted:
            stmt = stmt.where(Message.conversation_id.in_([uuid.UUID(c) for c in wanted]))
        rows = (await session.execute(stmt)).all()
    if any(row.status in (MessageStatus.QUEUED, MessageStatus.SENDING) for row in rows):
        return False
    messages = {str(row.id) for row in rows}
    for job in await pending_jobs(runtime):
        arguments = job.task_kwargs
        if not wanted or arguments.get("conversation_id") in wanted:
            return False
        if arguments.get("message_id") in messages:
            return False
    return True


async def drained(
    target: Service | Runtime, *conversation_ids: object, within: float = PATIENCE
) -> None:
    """Wait until nothing more can reach these conversations' customers (or any customer)
    unprompted. Only then may a test assert that something did NOT happen; a sleep would
    pass on a slow machine without testing anything."""
    runtime = target.runtime if isinstance(target, Service) else target

    async def idle_twice() -> bool:
        # Twice in a row: a job that finishes may defer the next one (a reply defers its send).
        if not await _idle(runtime, conversation_ids):
            return False
        await asyncio.sleep(0.05)
        return await _idle(runtime, conversation_ids)

    await eventually(idle_twice, within)


async def rows_settled(db: Database, within: float = PATIENCE) -> None:
    """Wait until the rows hold no work: every AI conversation answered through its newest
    customer message, no message queued or sending. For a service in another process, whose
    job queue this one cannot see (the rows are the truth, docs/architecture.md
    docs/architecture.md, invariant 2)."""

    async def idle() -> bool:
        async with db.session_scope() as session:
            unanswered = await session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(
                    Conversation.mode == Mode.AI,
                    Conversation.is_group.is_(False),
                    Conversation.last_inbound_at.is_not(None),
                    or_(
                        Conversation.answered_through.is_(None),
                        Conversation.answered_through < Conversation.last_inbound_at,
                    ),
                )
            )
            moving = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
            )
        return unanswered == moving == 0

    await eventually(idle, within)


async def start_service(
    settings: Settings,
    db: Database,
    account: ApiAccount,
    green_api: FakeGreenAPI,
    *,
    receive_mode: str = "webhook",
    connect: bool = True,
) -> AsyncIterator[Service]:
    """The service with the fake's instance connected (`receive_mode` webhook or polling);
    with `connect=False`, a service started again over a database that has it already."""
    app = create_app(settings)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if connect:
                response = await client.post(
                    "/api/v1/channels",
                    headers=account.headers,
                    json={
                        "type": "green_api",
                        "id_instance": INSTANCE,
                        "api_token": green_api.token,
                        "api_url": green_api.base_url,
                        "webhook_token": WEBHOOK_TOKEN,
                        "receive_mode": receive_mode,
                    },
                )
                assert response.status_code == 201, response.text
            state: AppState = app.state.app_state
            yield Service(
                client=client, db=db, account=account, green_api=green_api, runtime=state.runtime
            )


async def conversation_of(db: Database, chat_id: str) -> Conversation:
    async with db.session_scope() as session:
        stmt = (
            select(Conversation)
            .join(Contact, Conversation.contact_id == Contact.id)
            .where(Contact.chat_id == chat_id)
        )
        return (await session.execute(stmt)).scalar_one()
