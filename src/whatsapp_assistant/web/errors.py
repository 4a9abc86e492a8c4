"""The one table from DomainError.kind to HTTP, and the JSON error shape every 4xx uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from whatsapp_assistant.errors import DomainError, ErrorKind
from whatsapp_assistant.web.templating import templates

STATUS_BY_KIND: dict[ErrorKind, int] = {
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
    # Never reveal that another tenant's object exists (docs/architecture.md, invariant 6).
    "forbidden": 404,
    "unauthorized": 401,
    "unavailable": 503,
}


def error_body(
    code: str,
    message: str,
    field: str | None = None,
    details: dict[str, object] | None = None,
) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    if details is not None:
        error["details"] = details
    return {"error": error}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    # What the caller can act on, by code: `slot_taken` lists the next free `next_slots`.
    details: dict[str, Any] | None = None


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    """Every JSON 4xx and 5xx of ours; `errors` lists each wrong field of a 422."""

    error: ErrorDetail
    errors: list[FieldError] | None = None


_ERROR_DESCRIPTIONS = {
    400: "The request body could not be read",
    401: "No valid API key and no signed-in session",
    403: "A signed-in session's unsafe call without its CSRF token",
    404: "No such object in the caller's account (another account's reads the same)",
    409: "It conflicts with what the account already has",
    422: "A parameter or field is wrong (`error.field` names the first)",
    503: "A service this needs is not reachable now",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: these error statuses, each answered as an ErrorResponse."""
    return {
        status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


def spelled_out_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same, for a route whose own media type is not JSON (FastAPI files a `model` under the
    route's media type); ErrorResponse is in the document because the other routes use it."""
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {
        status: {"description": _ERROR_DESCRIPTIONS[status], "content": content}
        for status in statuses
    }


_PAGE_TITLES = {
    403: "This form had expired",
    404: "Not found",
    409: "That changed meanwhile",
    422: "That did not work",
    503: "Unavailable for a moment",
}


def _is_page(request: Request) -> bool:
    """A browser page (HTML answers), rather than the JSON API or a provider's webhook."""
    return not request.url.path.startswith(("/api/", "/webhooks/", "/docs", "/openapi", "/static"))


def page_error(request: Request, status: int, message: str) -> Response:
    title = _PAGE_TITLES.get(status, "Something went wrong")
    context = {"title": title, "message": message}
    response = templates.TemplateResponse(request, "error.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_KIND[exc.kind]
    if _is_page(request):
        # Another account's object reads "not found" here too (docs/architecture.md, invariant 6).
        message = "There is nothing here, or it is not yours." if status == 404 else exc.message
        return page_error(request, status, message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, exc.details()), status, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_page(request):
        if any(err["loc"][:1] == ("path",) for err in exc.errors()):
            return page_error(request, 404, "There is nothing here, or it is not yours.")
        # Pages check their fields themselves; this is a form no page of ours sends.
        wrong = ", ".join(str(err["loc"][-1]) for err in exc.errors())
        return page_error(request, 422, f"Nothing was changed: the form had a wrong {wrong}.")
    fields = [{"field": _field_of(err, exc.body), "message": err["msg"]} for err in exc.errors()]
    first = fields[0] if fields else {"field": None, "message": "invalid request"}
    body = error_body("validation_error", f"{first['field']}: {first['message']}", first["field"])
    body["errors"] = fields
    return JSONResponse(body, 422)


def _field_of(error: Mapping[str, Any], body: object) -> str:
    """The field's dotted path in the body. A body that is one of several shapes told apart
    by its "type" (POST /api/v1/channels) names the field inside the chosen one, or "type"."""
    loc = tuple(error["loc"])
    if str(error.get("type", "")).startswith("union_tag_"):
        return "type"
    parts = list(loc[1:] if loc[:1] == ("body",) else loc)
    tag = body.get("type") if isinstance(body, dict) else None
    if loc[:1] == ("body",) and parts and isinstance(tag, str) and parts[0] == tag:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


class CsrfRejected(Exception):
    """An unsafe cookie-authenticated request without this session's CSRF token."""


class SignInRequired(Exception):
    """A page needs a signed-in user; the browser goes to the login page and comes back."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("sign in required")
        self.next_path = next_path


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    if _is_page(request):
        message = "Nothing was changed. Go back, reload the page and try again."
        return page_error(request, 403, message)
    message = "missing or wrong CSRF token: reload the page and try again"
    return JSONResponse(error_body("csrf_failed", message), 403)


async def _sign_in_required(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    query = f"?{urlencode({'next': exc.next_path})}" if exc.next_path else ""
    return RedirectResponse(f"/login{query}", 303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_page(request) and exc.status_code == 404:
        return page_error(request, 404, "There is no such page.")
    body = error_body("http_error", str(exc.detail))
    return JSONResponse(body, exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(SignInRequired, _sign_in_required)
