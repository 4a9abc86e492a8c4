"""Races and crashes on committed data: real `whatsapp-assistant` processes and slow fakes.

Shared by the race tests: the service wired to the fakes, the customer webhooks of many chats,
and real `worker` / `serve` processes started against the test database (and killed at will).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import ApiAccount
from tests.conversations import harness
from tests.conversations.harness import Service, start_service
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Contact, Conversation, Message
from whatsapp_assistant.db.session import Database

CLI = str(Path(sys.executable).parent / "whatsapp-assistant")  # the installed command
LISTING = "Sunny T2 in Graça with terrace"
START_TIMEOUT = 60.0


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def customer_text(
    chat_id: str, message_id: str, text: str, *, instance: str | None = None
) -> dict[str, Any]:
    """The incoming_text fixture, written by another customer (chat) with another id."""
    return harness.customer_text(text, chat_id=chat_id, message_id=message_id, instance=instance)


def claude(settings: Settings, fake: FakeAnthropic, **changes: object) -> Settings:
    """The in-process settings that talk to the fake Anthropic API, one SDK attempt per call."""
    update: dict[str, object] = {
        "llm_provider": "anthropic",
        "anthropic_api_key": "test-key",
        "anthropic_base_url": fake.base_url,
        "llm_max_retries": 0,
    }
    return tuned(settings, **update | changes)


def claude_env(fake: FakeAnthropic) -> dict[str, str]:
    """The same, as a separate process reads it from its environment."""
    return {
        "LLM_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake.base_url,
        "LLM_MAX_RETRIES": "0",
    }


@asynccontextmanager
async def serving(
    settings: Settings, db: Database, account: ApiAccount, green_api: FakeGreenAPI
) -> AsyncIterator[Service]:
    """The harness's start_service as a context manager, so a test can stop and restart it."""
    running = start_service(settings, db, account, green_api)
    assert isinstance(running, AsyncGenerator)  # so it can be closed, lifespan and all
    service = await anext(running)
    try:
        yield service
    finally:
        await running.aclose()


async def conversation_ids(db: Database) -> dict[str, uuid.UUID]:
    """chat id -> conversation id, for every conversation stored."""
    async with db.session_scope() as session:
        rows = await session.execute(
            select(Contact.chat_id, Conversation.id).join(
                Conversation, Conversation.contact_id == Contact.id
            )
        )
        return {row.chat_id: row.id for row in rows}


async def messages_of(db: Database, conversation_id: uuid.UUID, **where: object) -> list[Message]:
    async with db.session_scope() as session:
        stmt = select(Message).where(Message.conversation_id == conversation_id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Message, name) == value)
        return list((await session.execute(stmt.order_by(Message.created_at))).scalars())


def sends_to(green_api: FakeGreenAPI, chat_id: str) -> list[str]:
    return [sent["message"] for sent in green_api.sent_messages if sent["chatId"] == chat_id]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """One `whatsapp-assistant` process; its output goes to a file the failure message shows."""

    def __init__(self, popen: subprocess.Popen[bytes], log: Path) -> None:
        self.popen = popen
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine or a container dies."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Processes:
    """Starts `worker` and `serve` processes on the test database; stops them all at the end."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.started: list[Process] = []

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return (
            dict(os.environ)
            | {
                "DATABASE_URL": self.database_url,
                "REPLY_DEBOUNCE_SECONDS": "0",
                "NO_PROXY": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
                "ANTHROPIC_API_KEY": "",
                "LLM_PROVIDER": "offline",
            }
            | extra
        )

    def _spawn(self, args: list[str], extra: dict[str, str]) -> Process:
        log = self.folder / f"{args[0]}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
                [CLI, *args], env=self._env(extra), stdout=out, stderr=subprocess.STDOUT
            )
        process = Process(popen, log)
        self.started.append(process)
        return process

    async def workers(self, count: int, **extra: str) -> list[Process]:
        """`count` worker processes, returned once each says it is running."""
        started = [self._spawn(["worker"], extra) for _ in range(count)]
        deadline = time.monotonic() + START_TIMEOUT
        while not all("worker running" in process.output() for process in started):
            for process in started:
                assert process.popen.poll() is None, f"worker exited:\n{process.output()}"
            assert time.monotonic() < deadline, "workers did not start in time"
            await asyncio.sleep(0.05)
        return started

    async def serve(self, **extra: str) -> tuple[Process, str]:
        """A `serve` process on a free port, returned with its base URL once /healthz answers."""
        port = free_port()
        process = self._spawn(["serve", "--port", str(port)], extra)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
            while True:
                assert process.popen.poll() is None, f"serve exited:\n{process.output()}"
                assert time.monotonic() < deadline, "serve did not start in time"
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return process, base
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    def stop_all(self) -> None:
        """Stop every process; their output is printed, which pytest shows when a test failed."""
        for process in self.started:
            process.stop()
            print(f"--- {process.log.name} (last lines)\n{process.output()[-4000:]}")  # noqa: T201


@pytest.fixture
def processes(database_url: str, db: Database, tmp_path: Path) -> Iterator[Processes]:
    """Depends on `db`, so the processes are stopped before the database is wiped."""
    started = Processes(database_url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
