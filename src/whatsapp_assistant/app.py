"""create_app(settings) and running_services(): engine, jobs, channels and the AI wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.middleware.gzip import GZipMiddleware

from whatsapp_assistant.ai import language
from whatsapp_assistant.ai.providers.registry import make_provider
from whatsapp_assistant.channels.registry import close_registry, make_registry
from whatsapp_assistant.config import Settings, load_settings
from whatsapp_assistant.conversations import backfill, polling, recovery
from whatsapp_assistant.conversations.runtime import Runtime
from whatsapp_assistant.db.engine import make_engine, make_sessionmaker
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.pubsub import PUBSUB_KEY, PubSub, make_pubsub
from whatsapp_assistant.infra.queue import JobQueue, ensure_schema, make_job_app
from whatsapp_assistant.jobs.tasks import register_tasks
from whatsapp_assistant.jobs.worker import run_worker
from whatsapp_assistant.web.api.router import api_router
from whatsapp_assistant.web.calendar_feed import calendar_router
from whatsapp_assistant.web.deps import AppState
from whatsapp_assistant.web.errors import install_error_handlers
from whatsapp_assistant.web.pages.router import pages_router
from whatsapp_assistant.web.webhooks.router import webhook_router

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"


def build_database(settings: Settings, *, pubsub: PubSub | None = None) -> Database:
    """With `pubsub`, every commit of this database publishes its live inbox events."""
    engine = make_engine(settings)
    info = {PUBSUB_KEY: pubsub} if pubsub is not None else {}
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine), info=info)


@asynccontextmanager
async def running_services(settings: Settings, *, run_worker_here: bool) -> AsyncIterator[Runtime]:
    """Everything the product needs at run time; with run_worker_here, jobs run in this process."""
    pubsub = make_pubsub(settings)
    db = build_database(settings, pubsub=pubsub)
    job_app = make_job_app(
        settings.database.url,
        pool_min=settings.database.job_pool_min,
        pool_max=settings.database.job_pool_max,
    )
    register_tasks(job_app, recovery_every_seconds=settings.recovery.every_seconds)
    channels = make_registry(settings)
    llm = make_provider(settings)
    runtime = Runtime(settings=settings, db=db, queue=JobQueue(job_app), llm=llm, channels=channels)
    worker: asyncio.Task[None] | None = None
    poller: asyncio.Task[None] | None = None
    # The language detector loads its models once per process (about a second): here, not in
    # the first customer's webhook.
    await asyncio.to_thread(language.detector)
    async with job_app.open_async():
        await ensure_schema(job_app)
        try:
            if run_worker_here:
                worker = asyncio.create_task(run_worker(job_app, runtime), name="job-worker")
                await recovery.recover(runtime, startup=True)
                # Green API numbers pulled instead of posting to us, and what each number
                # received while this process was down (docs/decisions.md, 26).
                poller = asyncio.create_task(polling.run(runtime), name="green-api-poller")
                await backfill.defer_all(runtime)
            yield runtime
        finally:
            for task in (poller, worker):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await llm.aclose()
            await close_registry(channels)
            await pubsub.aclose()
            await db.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        in_process = settings.worker.in_process or settings.is_sqlite
        async with running_services(settings, run_worker_here=in_process) as runtime:
            app.state.app_state = AppState(settings=settings, db=runtime.db, runtime=runtime)
            yield

    app = FastAPI(
        title="WhatsApp assistant for real-estate agents",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    install_error_handlers(app)
    # Pages are re-read on every live update: gzip makes a 50 KB inbox about 8 KB on a phone's
    # connection. The live stream itself (text/event-stream) is left alone, or it would buffer.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    app.include_router(api_router)
    app.include_router(webhook_router)
    app.include_router(pages_router)
    app.include_router(calendar_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Listing photos uploaded on the listing page, by their random names: WhatsApp and the
    # thread page fetch them without a session (docs/decisions.md, 29).
    app.mount(
        "/photos",
        StaticFiles(directory=settings.photos.dir, check_dir=False),
        name="photos",
    )

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/inbox", 303)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        state: AppState = app.state.app_state
        async with state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
