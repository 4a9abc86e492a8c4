"""The whatsapp-assistant command: serve, worker, migrate, accounts, users, listings, demo, chat,
backfill."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts import sessions as user_sessions
from whatsapp_assistant.accounts.schemas import AccountCreate, CreatedAccount, UserCreate, UserRead
from whatsapp_assistant.app import build_database, create_app, running_services
from whatsapp_assistant.cli import chat as chat_session
from whatsapp_assistant.cli import demo as demo_data
from whatsapp_assistant.config import QUEUES, Settings, load_settings
from whatsapp_assistant.conversations.backfill import BackfillReport, backfill
from whatsapp_assistant.db import migrate as migrations
from whatsapp_assistant.errors import DomainError
from whatsapp_assistant.infra.queue import ensure_schema, make_job_app
from whatsapp_assistant.properties.importer import ImportReport, import_csv

app = typer.Typer(
    help="An AI assistant on a real-estate agent's WhatsApp number.", no_args_is_help=True
)
accounts_app = typer.Typer(help="Agent accounts.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to an account.", no_args_is_help=True)
properties_app = typer.Typer(help="Listings.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(users_app, name="users")
app.add_typer(properties_app, name="properties")
console = Console(stderr=True)

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; expected failures print a clear line and exit 2."""
    try:
        return asyncio.run(coro)
    except (DomainError, ValidationError, ValueError) as exc:
        console.print(f"[red]error:[/red] {_describe(exc)}")
        raise typer.Exit(2) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(getattr(exc, "message", exc))


def _settings() -> Settings:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Green API's token is part of the URL path.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return load_settings()


def _upgrade(settings: Settings) -> None:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.database.url)
    if not settings.is_sqlite:
        _run(_apply_job_schema(settings))


async def _apply_job_schema(settings: Settings) -> None:
    job_app = make_job_app(settings.database.url, pool_min=1, pool_max=1)
    async with job_app.open_async():
        await ensure_schema(job_app)


@app.command()
def migrate(
    check: Annotated[bool, typer.Option(help="Only check that models match migrations.")] = False,
) -> None:
    """Create or upgrade the database schema (and the job tables on PostgreSQL)."""
    settings = _settings()
    if check:
        migrations.check(settings.database.url)
        return
    _upgrade(settings)
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Web processes (PostgreSQL only; jobs then run in `worker` processes)."
        ),
    ] = 1,
) -> None:
    """Run the API, the webhooks and (in the embedded default) the job worker."""
    settings = _settings()
    if workers > 1 and settings.is_sqlite:
        console.print(
            "[red]error:[/red] --workers above 1 needs PostgreSQL (set DATABASE_URL): with "
            "SQLite the job queue and the live events live inside the one process."
        )
        raise typer.Exit(2)
    _upgrade(settings)
    where = settings.sqlite_path() or "PostgreSQL"
    console.print(f"AI provider: {settings.effective_provider} · database: {where}")
    console.print(f"API docs: http://{host}:{port}/docs")
    # Open live streams (SSE) never end by themselves: shutdown waits this long, then closes them.
    options: dict[str, Any] = {"log_level": "info", "timeout_graceful_shutdown": 5}
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, **options)
        return
    console.print(f"{workers} web processes; jobs run in `whatsapp-assistant worker` processes")
    # Each process builds its own app (engine, pools, pub/sub) from the environment. Loading
    # the language models holds a starting process for seconds on a busy machine: the
    # supervisor's 5 s health check would kill and restart it over and over.
    uvicorn.run(
        "whatsapp_assistant.cli:web_process_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=60,
        **options,
    )


def web_process_app() -> FastAPI:
    """One of several `serve` processes: the web only, whatever WORKER_IN_PROCESS says, so no
    two processes run the in-process worker and its start-up recovery side by side."""
    settings = load_settings()
    worker = settings.worker.model_copy(update={"in_process": False})
    return create_app(settings.model_copy(update={"worker": worker}))


@app.command()
def worker(
    queues: Annotated[
        str | None,
        typer.Option(help="Comma-separated queues to work: send, reply, scheduled, maintenance."),
    ] = None,
) -> None:
    """Run a job worker on its own (PostgreSQL deployments; several may run at once)."""
    settings = _settings()
    if queues is not None:
        chosen = tuple(name.strip() for name in queues.split(",") if name.strip())
        unknown = [name for name in chosen if name not in QUEUES]
        if unknown or not chosen:
            console.print(
                f"[red]error:[/red] unknown queue {', '.join(unknown) or '(none)'}; "
                f"choose from {', '.join(QUEUES)}"
            )
            raise typer.Exit(2)
        worker_settings = settings.worker.model_copy(update={"queues": chosen})
        settings = settings.model_copy(update={"worker": worker_settings})
    if settings.is_sqlite:
        console.print(
            "[red]error:[/red] a separate worker needs PostgreSQL (set DATABASE_URL); "
            "with SQLite, `serve` runs the jobs itself."
        )
        raise typer.Exit(2)
    _run(_worker(settings))


async def _worker(settings: Settings) -> None:
    async with running_services(settings, run_worker_here=True):
        console.print("worker running; Ctrl-C to stop")
        await asyncio.Event().wait()


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="Agent or agency name.")],
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    password: Annotated[str, typer.Option(help="Sign-in password (8+ characters).")],
    owner_phone: Annotated[
        str | None, typer.Option(help="The agent's own WhatsApp number, for alerts.")
    ] = None,
) -> None:
    """Create an account; prints one JSON object with the API key (shown only this once)."""
    settings = _settings()
    _upgrade(settings)
    created = _run(_create_account(settings, name, email, password, owner_phone))
    typer.echo(json.dumps(_account_json(created)))


def _account_json(created: CreatedAccount) -> dict[str, str]:
    return {
        "account_id": str(created.account_id),
        "user_id": str(created.user_id),
        "email": created.email,
        "api_key": created.api_key,
    }


async def _create_account(
    settings: Settings, name: str, email: str, password: str, phone: str | None
) -> CreatedAccount:
    data = AccountCreate(name=name, email=email, password=password, owner_phone=phone)
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            return await accounts.sign_up(session, data)
    finally:
        await db.dispose()


@users_app.command("create")
def users_create(
    account: Annotated[uuid.UUID, typer.Option(help="Account id.")],
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    password: Annotated[str, typer.Option(help="Sign-in password (8+ characters).")],
    name: Annotated[str, typer.Option(help="The person's name.")] = "",
) -> None:
    """Add a person who signs in to an account; prints the user as one JSON object."""
    settings = _settings()
    _upgrade(settings)
    user = _run(
        _create_user(settings, account, UserCreate(email=email, password=password, name=name))
    )
    typer.echo(user.model_dump_json())


async def _create_user(settings: Settings, account_id: uuid.UUID, data: UserCreate) -> UserRead:
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            user = await accounts.create_user(session, account_id, data)
            return UserRead.model_validate(user)
    finally:
        await db.dispose()


@users_app.command("reset-password")
def users_reset_password(
    email: Annotated[str, typer.Option(help="The user's sign-in email.")],
    password: Annotated[str, typer.Option(help="The new password (8+ characters).")],
) -> None:
    """Set a new password and sign the user out everywhere."""
    settings = _settings()
    _upgrade(settings)
    user, revoked = _run(_reset_password(settings, email, password))
    typer.echo(json.dumps({**user.model_dump(mode="json"), "sessions_revoked": revoked}))


async def _reset_password(settings: Settings, email: str, password: str) -> tuple[UserRead, int]:
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            user, revoked = await user_sessions.reset_password(session, email, password)
            return UserRead.model_validate(user), revoked
    finally:
        await db.dispose()


@properties_app.command("import")
def properties_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
    account: Annotated[uuid.UUID, typer.Option(help="Account id.")],
) -> None:
    """Import listings from CSV: valid rows are saved, each invalid row is reported."""
    settings = _settings()
    _upgrade(settings)
    report = _run(_import(settings, account, file.read_text(encoding="utf-8-sig")))
    _print_report(report)
    if report.failed:
        raise typer.Exit(1)


async def _import(settings: Settings, account_id: uuid.UUID, text: str) -> ImportReport:
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            if await accounts.get_account(session, account_id) is None:
                raise ValueError(f"no account {account_id}")
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("importing", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            async with db.session_scope() as session:
                return await import_csv(session, account_id, text, on_progress=on_progress)
    finally:
        await db.dispose()


def _print_report(report: ImportReport) -> None:
    console.print(f"created {report.created}, updated {report.updated}, failed {report.failed}")
    for error in report.errors:
        where = f" ({error.field})" if error.field else ""
        console.print(f"  line {error.row}{where}: {error.message}")


@app.command()
def demo() -> None:
    """Create (or refresh) the demo account with sample listings and print how to use it."""
    settings = _settings()
    if settings.environment == "production":
        console.print("[red]error:[/red] the demo account is not created in production")
        raise typer.Exit(2)
    _upgrade(settings)
    info = _run(demo_data.ensure_demo(settings))
    typer.echo(demo_data.instructions(info, settings))


@app.command()
def chat(
    account: Annotated[
        uuid.UUID | None, typer.Option(help="Account id (default: the demo account).")
    ] = None,
    customer: Annotated[str, typer.Option(help="The customer's name.")] = "Terminal customer",
    phone: Annotated[str, typer.Option(help="The customer's number (digits).")] = "351900000001",
) -> None:
    """Be a customer: type messages, the assistant answers through the real pipeline."""
    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    _upgrade(settings)
    _run(chat_session.run_terminal_chat(settings, account, customer=customer, phone=phone))


_DURATION = re.compile(r"(\d{1,6})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`90m`, `6h` or `2d`, from a minute to 30 days; ValueError says what is expected."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError("--since: use minutes, hours or days, for example 90m, 6h or 2d")
    duration = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not timedelta(minutes=1) <= duration <= timedelta(days=30):
        raise ValueError("--since: choose between 1m and 30d")
    return duration


@app.command("backfill")
def backfill_command(
    channel: Annotated[uuid.UUID, typer.Option(help="The Green API channel's id.")],
    since: Annotated[
        str, typer.Option(help="How far back to read: 90m, 6h, 2d (default 6h).")
    ] = "6h",
) -> None:
    """Store the messages the number received while the service was down, once each; answer
    the recent ones, flag the older ones for the agent."""
    try:
        window = parse_duration(since)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    settings = _settings()
    logging.getLogger().setLevel(logging.WARNING)
    _upgrade(settings)
    report = _run(_backfill(settings, channel, window))
    console.print(
        f"read {report.read}, already stored {report.known}, stored {report.stored}; "
        f"{report.answered} conversations to answer, {report.flagged} flagged for you"
    )
    typer.echo(json.dumps(dataclasses.asdict(report)))


async def _backfill(settings: Settings, channel_id: uuid.UUID, since: timedelta) -> BackfillReport:
    # The replies are jobs: a running service (or its next start) answers them from the rows.
    async with running_services(settings, run_worker_here=False) as runtime:
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("reading Green API's journal", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(
                    task, completed=done, total=total, description="storing missed messages"
                )

            return await backfill(runtime, channel_id, since=since, on_progress=on_progress)


def main() -> None:
    app()
