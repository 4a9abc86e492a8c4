"""Test harness: a real database built by the migrations, wiped between tests; loopback fakes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from tests.scratch_db import scratch_postgres_database
from tests.settings import defaults, tuned
from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts.schemas import AccountCreate
from whatsapp_assistant.all_models import Base
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db import migrate
from whatsapp_assistant.db.engine import make_engine, make_sessionmaker
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.queue import ensure_schema, make_job_app
from whatsapp_assistant.kit import clock as kit_clock

pytest_plugins = [
    "tests.fakes.fixtures",
    "tests.fakes.llm_fixtures",
    "tests.conversations.service_fixtures",
]

# TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test runs the suite on PostgreSQL:
# each run gets its own fresh database next to the one named, dropped at the end.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
JOB_TABLES = ("procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` run in the PostgreSQL pass only, tests marked `sqlite` in the
    SQLite pass only; the other pass deselects them (never a skip: a skip reads as a gap)."""
    other = "sqlite" if TEST_DATABASE_URL.startswith("postgresql") else "postgres"
    elsewhere = [item for item in items if item.get_closest_marker(other)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_DATABASE_URL.startswith("postgresql"):
        with scratch_postgres_database(TEST_DATABASE_URL) as url:
            migrate.upgrade(url)
            asyncio.run(_apply_job_schema(url))
            yield url
    else:
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield url


@pytest.fixture
def clock() -> Iterator[Callable[[timedelta], None]]:
    """Moves kit/clock.py's time forward (`clock(timedelta(days=1))`); back to real time after."""
    try:
        yield kit_clock.advance
    finally:
        kit_clock.reset()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return tuned(
        defaults(),
        environment="test",
        database_url=database_url,
        photos_dir=tmp_path / "photos",  # uploaded listing photos stay out of the worktree
        media_dir=tmp_path / "media",  # and so do the files customers send
        media_retry_delays_seconds=(0.05, 0.1),
        llm_provider="offline",
        reply_debounce_seconds=0,
        green_api_backoff_seconds=0.01,
        meta_cloud_backoff_seconds=0.01,
        # No test reaches Meta: a channel without its own graph_url finds nobody listening.
        meta_cloud_graph_url="http://127.0.0.1:9/v26.0",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    engine = make_engine(settings)
    database = Database(engine=engine, sessionmaker=make_sessionmaker(engine))
    try:
        yield database
    finally:
        await _wipe(database)
        await database.dispose()


async def _apply_job_schema(url: str) -> None:
    job_app = make_job_app(url)
    async with job_app.open_async():
        await ensure_schema(job_app)


async def _wipe(database: Database) -> None:
    async with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
        if not database.is_sqlite:
            await conn.execute(text(f"TRUNCATE {', '.join(JOB_TABLES)} CASCADE"))


@dataclass(frozen=True)
class ApiAccount:
    account_id: uuid.UUID
    api_key: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def lifespan(app: FastAPI) -> LifespanManager:
    """The app's start-up and shutdown, with room for a loaded machine (asgi-lifespan's 5 s
    default fails tests when both test passes and the migrations compete for two cores)."""
    return LifespanManager(app, startup_timeout=60, shutdown_timeout=60)


@pytest.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[FastAPI]:
    """The real application with its lifespan running (in-process jobs included)."""
    application = create_app(settings)
    async with lifespan(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def make_api_account(db: Database, *, name: str, email: str) -> ApiAccount:
    async with db.session_scope() as session:
        created = await accounts.sign_up(
            session, AccountCreate(name=name, email=email, password="correct horse battery")
        )
    return ApiAccount(account_id=created.account_id, api_key=created.api_key, email=email)


@pytest.fixture
async def api_account(db: Database) -> ApiAccount:
    return await make_api_account(db, name="Casa Lusa Imóveis", email="rita@casalusa.example")


@pytest.fixture
async def other_account(db: Database) -> ApiAccount:
    return await make_api_account(db, name="Other Agency", email="boss@other.example")
