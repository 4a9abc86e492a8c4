"""The /api/v1 router: every JSON route, each behind an API key or a signed-in session."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_assistant.web import realtime
from whatsapp_assistant.web.api import (
    account,
    api_keys,
    channels,
    conversations,
    persona,
    properties,
    schedule,
    scheduled,
    viewings,
)
from whatsapp_assistant.web.errors import error_responses

# Every route needs an API key or a signed-in session (docs/architecture.md, invariant 6: each sees
# one account).
api_router = APIRouter(prefix="/api/v1", responses=error_responses(401))
api_router.include_router(channels.router)
api_router.include_router(persona.router)
api_router.include_router(conversations.router)
api_router.include_router(properties.router)
api_router.include_router(account.router)
api_router.include_router(schedule.router)
api_router.include_router(scheduled.router)
api_router.include_router(viewings.router)
api_router.include_router(realtime.router)
api_router.include_router(api_keys.router)
