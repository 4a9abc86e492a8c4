"""Hostile JSON at every /api/v1 route with a JSON body: a clear 400 or a normal answer, no 5xx.

The routes are derived from the application, so a new one is covered without being listed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.builders import book_by_hand, create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import drained
from tests.web.hostile_json import hostile_json, is_readable, row_counts
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import AppState

UNREADABLE = {
    "5000-digit-integer": b'{"text": ' + b"1" * 5000 + b"}",
    "21-digit-integer": b'{"text": 123456789012345678901}',
    "nan": b'{"text": NaN}',
    "infinity": b'{"text": -Infinity}',
    "nested-40-deep": b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}",
    "not-json": b'{"text": "Hi"',
    "not-utf8": b'{"text": "Ol\xe1"}',
}


@dataclass(frozen=True)
class JsonRoute:
    method: str
    path: str
    model: Any  # a model, or a union of models told apart by a field (POST /channels)
    uses_reader: bool

    @property
    def field_names(self) -> list[str]:
        """The fields of the body's model, or of every model of its union."""
        return sorted({name for model in _models(self.model) for name in model.model_fields})


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models a body annotation names: itself, or the members of its (annotated) union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return _models(get_args(annotation)[0])
    return [model for member in get_args(annotation) for model in _models(member)]


def json_routes(app: FastAPI) -> list[JsonRoute]:
    """Every POST, PUT and PATCH under /api/v1 that takes a JSON body (not a form or a file)."""
    found = []
    for route in iter_route_contexts(app.routes):
        body = getattr(route, "body_field", None)
        if not route.path.startswith("/api/v1/") or body is None:
            continue
        if isinstance(body.field_info, params.Form):
            continue
        for method in sorted((route.methods or set()) & {"POST", "PUT", "PATCH"}):
            model = body.field_info.annotation
            assert _models(model), f"{route.path}: a body that is not a model or a union of them"
            uses_reader = isinstance(route.original_route, JSONBodyRoute)
            found.append(JsonRoute(method, route.path, model, uses_reader))
    return found


@pytest.fixture
async def urls(client: httpx.AsyncClient, api_account: ApiAccount, db: Database) -> dict[str, str]:
    """Real ids for every path parameter, so each request reaches its route's body."""
    said = await client.post(
        "/api/v1/simulator/messages", headers=api_account.headers, json={"text": "Hello"}
    )
    assert said.status_code == 202
    [conversation] = (await client.get("/api/v1/conversations", headers=api_account.headers)).json()
    async with db.session_scope() as session:
        listing = await create_property(session, api_account.account_id)
    later = await client.post(
        f"/api/v1/conversations/{conversation['id']}/scheduled",
        headers=api_account.headers,
        json={"text": "see you", "due_at": "2031-03-03T09:00:00+00:00"},
    )
    assert later.status_code == 201, later.text
    channel = await client.post(
        "/api/v1/channels",
        headers=api_account.headers,
        json={"type": "green_api", "id_instance": "1101823456", "api_token": "a1b2c3d4e5f6a7b8"},
    )
    assert channel.status_code == 201, channel.text
    return {
        "channel_id": channel.json()["id"],
        "conversation_id": conversation["id"],
        "property_id": str(listing.id),
        "viewing_id": await book_by_hand(client, api_account.headers, str(listing.id)),
        "scheduled_id": later.json()["id"],
    }


def _url(route: JsonRoute, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda name: ids[name.group(1)], route.path)


async def _send(
    client: httpx.AsyncClient, account: ApiAccount, method: str, url: str, body: bytes
) -> httpx.Response:
    headers = account.headers | {"Content-Type": "application/json"}
    return await client.request(method, url, headers=headers, content=body)


def test_every_json_route_is_found_and_reads_through_the_one_reader(app: FastAPI) -> None:
    routes = json_routes(app)
    assert {(r.method, r.path) for r in routes} >= {
        ("PUT", "/api/v1/persona"),
        ("POST", "/api/v1/simulator/messages"),
        ("PATCH", "/api/v1/properties/{property_id}"),
    }
    assert [r.path for r in routes if not r.uses_reader] == []


async def test_an_unreadable_body_answers_400_everywhere_and_changes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    api_account: ApiAccount,
    db: Database,
    urls: dict[str, str],
) -> None:
    state: AppState = app.state.app_state
    await drained(state.runtime)
    before = await row_counts(db)
    for route in json_routes(app):
        for case, body in UNREADABLE.items():
            response = await _send(client, api_account, route.method, _url(route, urls), body)

            assert response.status_code == 400, (route, case, response.text)
            error = response.json()["error"]
            assert error["code"] == "unreadable_body", (route, case)
            assert error["message"].startswith("body "), (route, case)
    assert await row_counts(db) == before


@st.composite
def hostile_bodies(draw: st.DrawFn, route: JsonRoute) -> bytes:
    """Arbitrary hostile JSON, or the model's own fields each holding hostile JSON."""
    if draw(st.booleans()):
        return draw(hostile_json).encode()
    names = draw(st.lists(st.sampled_from(route.field_names), unique=True))
    members = [f"{json.dumps(name)}:{draw(hostile_json)}" for name in names]
    return ("{" + ",".join(members) + "}").encode()


class TestArbitraryHostileJson:
    @given(data=st.data())
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    async def test_no_json_route_answers_5xx_and_unreadable_changes_nothing(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        db: Database,
        urls: dict[str, str],
        data: st.DataObject,
    ) -> None:
        route = data.draw(st.sampled_from(json_routes(app)), label="route")
        body = data.draw(hostile_bodies(route), label="body")
        readable = is_readable(body)
        if not readable:
            state: AppState = app.state.app_state
            await drained(state.runtime)
            before = await row_counts(db)

        response = await _send(client, api_account, route.method, _url(route, urls), body)

        assert response.status_code < 500, response.text
        if not readable:
            assert response.status_code == 400, response.text
            assert await row_counts(db) == before
