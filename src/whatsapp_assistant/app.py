"""create_app(settings): the lifespan builds the engine, jobs, channels and the AI into typed state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import text

from whatsapp_assistant.config import Settings, load_settings
from whatsapp_assistant.db.engine import make_engine, make_sessionmaker
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.web.api.router import api_router
from whatsapp_assistant.web.errors import install_error_handlers


@dataclass
class AppState:
    settings: Settings
    db: Database


def build_database(settings: Settings) -> Database:
    engine = make_engine(settings)
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState(settings=settings, db=build_database(settings))
        app.state.app_state = state
        try:
            yield
        finally:
            await state.db.dispose()

    app = FastAPI(
        title="WhatsApp assistant for real-estate agents",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    install_error_handlers(app)
    app.include_router(api_router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        state: AppState = app.state.app_state
        async with state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
