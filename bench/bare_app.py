"""The baseline of bench/webhook_ingest.py: FastAPI and SQLAlchemy doing one INSERT per request.

What any webhook endpoint on this stack pays at least (HTTP, JSON, a pooled connection, one
committed row), on the same database and machine as the real one.
Run: uvicorn bench.bare_app:create --factory (BARE_DATABASE_URL names the database).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

TABLE = "CREATE TABLE IF NOT EXISTS bare_inserts (id uuid PRIMARY KEY, body jsonb NOT NULL)"


def create() -> FastAPI:
    engine = create_async_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, max_overflow=10)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.execute(text(TABLE))
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/green-api")
    async def receive(request: Request) -> JSONResponse:
        payload = json.loads(await request.body())
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO bare_inserts (id, body) VALUES (:id, :body)"),
                {"id": uuid.uuid4(), "body": json.dumps(payload)},
            )
        return JSONResponse({"status": "processed", "stored": 1})

    return app
