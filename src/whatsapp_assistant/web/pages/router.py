"""Every HTML page of the agent's web app, under one router."""

from __future__ import annotations

from fastapi import APIRouter

from whatsapp_assistant.web.pages import (
    auth,
    availability,
    channels,
    inbox,
    listings,
    meta_channels,
    persona,
    settings,
    simulator,
    viewings,
)

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(auth.router)
pages_router.include_router(inbox.router)
pages_router.include_router(listings.router)
pages_router.include_router(persona.router)
pages_router.include_router(simulator.router)
pages_router.include_router(meta_channels.router)
pages_router.include_router(channels.router)
pages_router.include_router(settings.router)
pages_router.include_router(availability.router)
pages_router.include_router(viewings.router)
