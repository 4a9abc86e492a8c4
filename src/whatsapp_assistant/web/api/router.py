"""The /api/v1 router: every JSON route, each behind an API key."""

from __future__ import annotations

from fastapi import APIRouter

api_router = APIRouter(prefix="/api/v1")
