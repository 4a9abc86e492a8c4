"""The private calendar feed calendar apps subscribe to: no session, the URL's token is the key."""

from __future__ import annotations

from fastapi import APIRouter, Response

from whatsapp_assistant.conversations import viewing_calendar
from whatsapp_assistant.errors import NotFound
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.web.deps import SessionDep

# Outside the OpenAPI document, as the pages are: calendar apps read the URL, not a schema.
calendar_router = APIRouter(include_in_schema=False)


class FeedNotFound(NotFound):
    code = "calendar_feed_not_found"


@calendar_router.get("/calendar/{token}.ics")
async def calendar_feed(token: str, session: SessionDep) -> Response:
    """An unknown or revoked token is a 404 like any missing page (docs/decisions.md, 22)."""
    ics = await viewing_calendar.feed(session, token, now=utcnow())
    if ics is None:
        raise FeedNotFound("no such calendar feed")
    headers = {
        "Content-Disposition": 'inline; filename="viewings.ics"',
        # Revoking the URL must take effect at the next fetch: nothing may keep a copy.
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    return Response(ics, media_type="text/calendar; charset=utf-8", headers=headers)
