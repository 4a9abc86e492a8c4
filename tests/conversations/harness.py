"""A running service wired to the loopback fakes; helpers to post webhooks and wait for sends."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from tests.conftest import ApiAccount
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.runtime import Runtime
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


async def settle(seconds: float = 0.6) -> None:
    """Give background jobs a chance to do something they must not do."""
    await asyncio.sleep(seconds)


async def start_service(
    settings: Settings, db: Database, account: ApiAccount, green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    app = create_app(settings)
    async with LifespanManager(app):
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


PENDING_JOBS = ("todo", "doing")


async def drained(runtime: Runtime, conversation_id: uuid.UUID) -> bool:
    """No reply or send job of this conversation is waiting or running, and none of its
    outbound rows is still waiting to leave: nothing more can reach the customer unprompted."""
    async with runtime.db.session_scope() as session:
        rows = await session.execute(
            select(Message.id, Message.status).where(Message.conversation_id == conversation_id)
        )
        statuses = {str(row.id): row.status for row in rows}
    if {"queued", "sending"} & set(statuses.values()):
        return False
    for job in await runtime.queue.app.job_manager.list_jobs_async():
        if job.status not in PENDING_JOBS:
            continue
        arguments = job.task_kwargs
        if arguments.get("conversation_id") == str(conversation_id):
            return False
        if arguments.get("message_id") in statuses:
            return False
    return True


async def wait_until_drained(
    runtime: Runtime, conversation_ids: Iterable[uuid.UUID], *, within: float = 60.0
) -> None:
    """Before asserting that something did not happen: wait until it no longer can."""
    waiting = set(conversation_ids)
    deadline = time.monotonic() + within
    while waiting:
        assert time.monotonic() < deadline, f"{len(waiting)} conversations still have work"
        waiting = {cid for cid in waiting if not await drained(runtime, cid)}
        if waiting:
            await asyncio.sleep(0.1)
