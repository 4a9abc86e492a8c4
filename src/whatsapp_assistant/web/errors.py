"""The one table from DomainError.kind to HTTP, and the JSON error shape every 4xx uses."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from whatsapp_assistant.errors import DomainError, ErrorKind

STATUS_BY_KIND: dict[ErrorKind, int] = {
    "not_found": 404,
    "conflict": 409,
    "invalid": 422,
    "forbidden": 404,  # never reveal that another tenant's object exists (invariant 6)
    "unauthorized": 401,
    "unavailable": 503,
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_KIND[exc.kind]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, exc.message, exc.field), status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in err["loc"] if part != "body"),
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    first = fields[0] if fields else {"field": None, "message": "invalid request"}
    body = error_body("validation_error", f"{first['field']}: {first['message']}", first["field"])
    body["errors"] = fields
    return JSONResponse(body, 422)


class CsrfRejected(Exception):
    """An unsafe cookie-authenticated request without this session's CSRF token."""


class SignInRequired(Exception):
    """A page needs a signed-in user; the browser goes to the login page and comes back."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("sign in required")
        self.next_path = next_path


async def _csrf_rejected(_request: Request, _exc: Exception) -> JSONResponse:
    message = "missing or wrong CSRF token: reload the page and try again"
    return JSONResponse(error_body("csrf_failed", message), 403)


async def _sign_in_required(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    query = f"?{urlencode({'next': exc.next_path})}" if exc.next_path else ""
    return RedirectResponse(f"/login{query}", 303)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(SignInRequired, _sign_in_required)
