"""A running service wired to the loopback fakes; helpers to post webhooks and wait for sends."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import procrastinate
from sqlalchemy import func, or_, select

from tests.conftest import ApiAccount, lifespan
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.runtime import REPLY_JOB, SEND_JOB, Runtime
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

    async def wait_for_sends(self, count: int, within: float = 15.0) -> list[dict[str, Any]]:
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


async def wait_until(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Poll an async condition (usually a database read) until it holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def pending_jobs(runtime: Runtime) -> list[procrastinate.jobs.Job]:
    """Reply and send jobs still to run or running."""
    manager = runtime.queue.app.job_manager
    jobs = [
        job for status in ("todo", "doing") for job in await manager.list_jobs_async(status=status)
    ]
    return [job for job in jobs if job.task_name in (REPLY_JOB, SEND_JOB)]


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
    target: Service | Runtime, *conversation_ids: object, within: float = 15.0
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


async def rows_settled(db: Database, within: float = 15.0) -> None:
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
    settings: Settings, db: Database, account: ApiAccount, green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    app = create_app(settings)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/api/v1/channels",
                headers=account.headers,
                json={
                    "type": "green_api",
                    "id_instance": INSTANCE,
                    "api_token": green_api.token,
                    "api_url": green_api.base_url,
                    "webhook_token": WEBHOOK_TOKEN,
                },
            )
            assert response.status_code == 201, response.text
            state: AppState = app.state.app_state
            yield Service(
                client=client, db=db, account=account, green_api=green_api, runtime=state.runtime
            )
