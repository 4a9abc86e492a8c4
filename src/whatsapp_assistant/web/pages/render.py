"""Rendering a signed-in page: the layout's context, the notices, and the headers every page has."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.templating import templates

# A form's outcome travels as `?done=<code>` on the redirect (post/redirect/get): fixed texts, so
# nothing a link carries is ever shown as it came.
NOTICES: dict[str, str] = {
    "listing-created": "Listing added.",
    "listing-saved": "Listing saved.",
    "listing-deleted": "Listing deleted.",
    "photo-added": "Photo added. The assistant can send it to customers.",
    "photo-removed": "Photo removed.",
    "listing-available": "Marked available. The assistant offers it again.",
    "listing-under-offer": "Marked under offer. The assistant no longer offers it.",
    "listing-sold": "Marked sold. The assistant no longer offers it.",
    "listing-rented": "Marked rented. The assistant no longer offers it.",
    "persona-saved": "Persona saved. The assistant uses it from its next reply.",
    "channel-connected": "Channel connected.",
    "template-mapped": "Template saved.",
    "template-removed": "Template removed: outside the 24-hour window that message is not sent.",
    "channel-disconnected": "Channel disconnected.",
    "receive-mode-saved": "Saved. Messages arrive the chosen way within a few seconds.",
    "settings-saved": "Settings saved.",
    "availability-saved": "Viewing times saved.",
    "key-revoked": "API key revoked.",
    "viewing-confirmed": "Viewing approved. The customer is told.",
    "viewing-declined": "Viewing declined. The customer is told.",
    "viewing-rescheduled": "Viewing moved. The customer is told the new time.",
    "viewing-cancelled": "Viewing cancelled. The customer is told.",
    "viewing-done": "Viewing marked done.",
    "viewing-no-show": "Viewing marked as a no-show.",
    "feed-revoked": "Calendar feed turned off. Its address no longer works.",
    "taken-over": "You are answering this conversation. The assistant stays silent here.",
    "handed-back": "The assistant answers this conversation again.",
    "language-set": "Language saved. The assistant's texts here use it from now on.",
    "scheduled-cancelled": "Scheduled message cancelled. It will not be sent.",
}


def no_store(response: Response) -> Response:
    """Pages carry a CSRF token and customers' words: never cached, never framed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page(
    request: Request,
    user: CurrentUser,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """`template` rendered inside the layout, for `user`."""
    done = request.query_params.get("done", "")
    full = {
        "user": user,
        "csrf_token": user.csrf_token,
        "notice": NOTICES.get(done),
        "path": request.url.path,
        **(context or {}),
    }
    return no_store(templates.TemplateResponse(request, template, full, status_code=status_code))


def redirect(path: str, done: str | None = None) -> RedirectResponse:
    """303 to a page of ours after a form, with the notice to show there."""
    if done is not None:
        assert done in NOTICES, done
        path += ("&" if "?" in path else "?") + f"done={done}"
    return RedirectResponse(path, 303)
