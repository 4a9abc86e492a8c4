"""The terminal customer: each line goes through the real pipeline over the simulator channel."""

from __future__ import annotations

import asyncio
import uuid

from rich.console import Console
from sqlalchemy import select

from whatsapp_assistant.app import running_services
from whatsapp_assistant.cli.demo import find_demo_account
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.outbox import FILE, IMAGE
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.conversations.schemas import SimulatedMessage
from whatsapp_assistant.conversations.simulator import receive_simulated
from whatsapp_assistant.conversations.states import Direction, MessageStatus

REPLY_TIMEOUT_SECONDS = 90.0
console = Console()


async def run_terminal_chat(
    settings: Settings, account_id: uuid.UUID | None, *, customer: str, phone: str
) -> None:
    account_id = account_id or await find_demo_account(settings)
    if account_id is None:
        raise ValueError("no account given and no demo account: run `whatsapp-assistant demo`")
    async with running_services(settings, run_worker_here=True) as runtime:
        console.print(
            f"[dim]You are {customer} (+{phone}) writing to account {account_id}. "
            f"AI: {settings.effective_provider}. Empty line or Ctrl-D quits.[/dim]"
        )
        while True:
            line = await asyncio.to_thread(_prompt)
            if not line:
                return
            await _exchange(runtime, account_id, line, customer=customer, phone=phone)


def _prompt() -> str:
    try:
        return input("you> ").strip()
    except EOFError:
        return ""


async def _exchange(
    runtime: Runtime, account_id: uuid.UUID, text: str, *, customer: str, phone: str
) -> None:
    async with runtime.db.session_scope() as session:
        sent = await receive_simulated(
            runtime,
            session,
            account_id,
            SimulatedMessage(text=text, customer=customer, phone=phone),
        )
    replies = await _wait_for_replies(runtime, sent)
    if not replies:
        console.print("[yellow](no answer: the conversation may be in human mode)[/yellow]")
    for reply in replies:
        label = "assistant (offline)" if reply.data.get("offline") else "assistant"
        attached = reply.data.get(FILE)
        if isinstance(attached, dict):
            console.print(f"[bold green]{label}>[/bold green] 📎 {attached['filename']}")
        photo = reply.data.get(IMAGE)
        if isinstance(photo, dict):
            console.print(f"[bold green]{label}>[/bold green] 📷 {photo['url']}")
        if reply.text:
            console.print(f"[bold green]{label}>[/bold green] {reply.text}")


async def _wait_for_replies(runtime: Runtime, sent: Message) -> list[Message]:
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        async with runtime.db.session_scope() as session:
            rows = (
                (
                    await session.execute(
                        select(Message)
                        .where(
                            Message.conversation_id == sent.conversation_id,
                            Message.direction == Direction.OUT,
                            Message.created_at > sent.created_at,
                            Message.status.in_(
                                [
                                    MessageStatus.SENT,
                                    MessageStatus.DELIVERED,
                                    MessageStatus.READ,
                                    MessageStatus.FAILED,
                                ]
                            ),
                        )
                        .order_by(Message.created_at)
                    )
                )
                .scalars()
                .all()
            )
        if rows:
            return list(rows)
        await asyncio.sleep(0.2)
    return []
