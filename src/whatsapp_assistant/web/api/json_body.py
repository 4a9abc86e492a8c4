"""The route class of every /api/v1 router: a JSON body is read by kit/json_input.py or refused.

FastAPI would parse with the standard library: a 5,000-digit integer or a nesting past the
recursion limit answered its generic 400, and lone surrogates or NUL went on to the database
(docs/architecture.md, invariant 7). Here one reader answers 400 with our error body, or hands
FastAPI clean text.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, params
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from typing_extensions import override

from whatsapp_assistant.kit.json_input import UnreadableJSON, read_json
from whatsapp_assistant.web.errors import error_body

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class JSONBodyRequest(Request):
    """A request whose `json()` is read_json: what FastAPI validates is already clean."""

    @override
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


class JSONBodyRoute(APIRoute):
    """Reads a route's JSON body before FastAPI does, so an unreadable one is our clear 400."""

    @override
    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()
        field = self.body_field
        if field is None or isinstance(field.field_info, params.Form):
            return handle

        async def read_then_handle(request: Request) -> Response:
            request = JSONBodyRequest(request.scope, request.receive)
            if _declares_json(request.headers.get("content-type")) and await request.body():
                try:
                    await request.json()
                except UnreadableJSON as exc:
                    return JSONResponse(error_body("unreadable_body", str(exc)), 400)
            return await handle(request)

        return read_then_handle


def _declares_json(content_type: str | None) -> bool:
    """The content types FastAPI parses as JSON (with strict content types, its default)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
