"""Tenants never see each other: every route with another account's id answers 404.

The routes are read from `app.routes`, so a route added later is called too; a path parameter
this file cannot map to an object of the other account fails the suite (docs/architecture.md
docs/architecture.md, invariant 6).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from tests.builders import book_by_hand, create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import eventually
from tests.web.routes import ServedRoute, served_routes
from tests.web.signin import csrf_header, sign_in
from whatsapp_assistant.all_models import Base
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.conversations.states import Direction, MessageStatus
from whatsapp_assistant.db.session import Database

# Which of the owner's objects each path parameter names.
KIND_OF_PARAMETER = {
    "conversation_id": "conversation",
    "property_id": "property",
    "channel_id": "channel",
    "key_id": "api_key",
    "viewing_id": "viewing",
    "message_id": "message",
    "scheduled_id": "scheduled",
}
# Path parameters that are a secret rather than an id: the URL itself is the authority (a
# calendar app subscribes without a session), so the walk calls such a route with a secret no
# account has and expects 404. tests/scheduling/test_calendar_feed.py checks the rest: a feed
# lists its own account's viewings only, and a revoked secret answers 404 at once.
SECRET_PARAMETERS = {"token": "cal_" + "0" * 43}
# A valid JSON body per request model, so the call reaches the account check (not a 422).
API_BODIES: dict[str, dict[str, Any]] = {
    "PropertyUpdate": {"title": "stolen"},
    "ModeChange": {"mode": "human"},
    "TemplateMappingUpdate": {"purpose": "followup", "template": None},
    "AgentMessage": {"text": "stolen"},
    "ConversationUpdate": {"language": "es"},
    "ViewingReschedule": {"starts_at": "2031-03-03T10:00:00+00:00"},
    "ScheduledCreate": {"text": "stolen", "due_at": "2031-03-03T10:00:00+00:00"},
    "ScheduledUpdate": {"keep_in_human": True},
    "ChannelUpdate": {"receive_mode": "polling"},
}
# Pages read forms: one form with every field a page with an id reads (extra fields are ignored).
PAGE_FORM = {
    "mode": "human",
    "language": "es",
    "text": "stolen",
    "status": "sold",
    "title": "stolen",
    "city": "Lisboa",
    "price": "1000",
    "property_type": "apartment",
    "listing_type": "sale",
    "starts_at": "2031-03-03T10:00",
    "receive_mode": "polling",
}


def routes_with_ids(app: FastAPI) -> list[ServedRoute]:
    found = [
        route
        for route in served_routes(app)
        if route.parameters and not set(route.parameters) & set(SECRET_PARAMETERS)
    ]
    unknown = {
        f"{route.method} {route.path}: {name}"
        for route in found
        for name in route.parameters
        if name not in KIND_OF_PARAMETER
    }
    assert not unknown, (
        "a route takes a path parameter this test cannot map to another account's object; add "
        f"it to KIND_OF_PARAMETER (and scope the route to the caller): {sorted(unknown)}"
    )
    return found


def body_models(app: FastAPI) -> dict[tuple[str, str], str]:
    """(method, path) -> the name of the route's JSON body model, for routes that take one."""
    models: dict[tuple[str, str], str] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None and context.path:
            for method in route.methods:
                annotation = route.body_field.field_info.annotation
                models[(method, context.path)] = getattr(annotation, "__name__", str(annotation))
    return models


async def owner_rows(db: Database, account_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    """Every tenant-owned row of the account, table by table."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session_scope() as session:
        for table in Base.metadata.sorted_tables:
            if "account_id" not in table.c:
                continue
            stmt = select(table).where(table.c.account_id == account_id)
            result = await session.execute(stmt.order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in result]
    return rows


async def replies_done(db: Database, account_id: uuid.UUID) -> bool:
    """The simulated customer was answered and nothing outbound is still on its way."""
    async with db.session_scope() as session:
        stmt = select(Message.direction, Message.status).where(Message.account_id == account_id)
        messages = list(await session.execute(stmt))
    pending = {MessageStatus.QUEUED, MessageStatus.SENDING}
    outbound = [status for direction, status in messages if direction == Direction.OUT]
    return bool(outbound) and not any(status in pending for status in outbound)


@pytest.fixture
async def owned(client: httpx.AsyncClient, db: Database, api_account: ApiAccount) -> dict[str, str]:
    """One object of each kind, owned by api_account, with its background work finished."""
    async with db.session_scope() as session:
        prop = await create_property(session, api_account.account_id)
    headers = api_account.headers
    await client.post("/api/v1/simulator/messages", headers=headers, json={"text": "hello"})
    [conversation] = (await client.get("/api/v1/conversations", headers=headers)).json()
    channels = (await client.get("/api/v1/channels", headers=headers)).json()
    key = await client.post("/api/v1/api-keys", headers=headers, json={"name": "spare"})
    viewing_id = await book_by_hand(client, headers, str(prop.id))
    later = await client.post(
        f"/api/v1/conversations/{conversation['id']}/scheduled",
        headers=headers,
        json={"text": "see you", "due_at": "2031-03-03T09:00:00+00:00"},
    )
    assert later.status_code == 201, later.text
    await eventually(lambda: replies_done(db, api_account.account_id))
    async with db.session_scope() as session:
        message = (
            (
                await session.execute(
                    select(Message.id).where(Message.account_id == api_account.account_id)
                )
            )
            .scalars()
            .first()
        )
    return {
        "message": str(message),
        "property": str(prop.id),
        "conversation": conversation["id"],
        "channel": channels[0]["id"],
        "api_key": key.json()["id"],
        "viewing": viewing_id,
        "scheduled": later.json()["id"],
    }


@pytest.fixture
async def other_pages(
    app: FastAPI, settings: Settings, other_account: ApiAccount
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as the other account, sending its CSRF token like our pages do."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        token = await sign_in(browser, other_account.email)
        browser.headers.update(csrf_header(settings, token))
        yield browser


class TestEveryRouteIsScopedToTheCaller:
    async def test_another_accounts_objects_answer_404_everywhere(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        other_pages: httpx.AsyncClient,
        db: Database,
        api_account: ApiAccount,
        other_account: ApiAccount,
        owned: dict[str, str],
    ) -> None:
        ids = {name: owned[kind] for name, kind in KIND_OF_PARAMETER.items()}
        models = body_models(app)
        before = await owner_rows(db, api_account.account_id)
        called: list[str] = []
        for route in routes_with_ids(app):
            url = route.url(ids)
            if route.is_api:
                model = models.get((route.method, route.path))
                assert model is None or model in API_BODIES, f"add a {model} body to API_BODIES"
                body = API_BODIES[model] if model else None
                response = await client.request(
                    route.method, url, headers=other_account.headers, json=body
                )
                assert response.status_code == 404, (route, response.text)
                assert response.json()["error"]["code"].endswith("not_found"), response.text
            else:
                form = PAGE_FORM if route.method == "POST" else None
                response = await other_pages.request(route.method, url, data=form)
                assert response.status_code == 404, (route, response.text)
                assert "not yours" in response.text, response.text
            called.append(f"{route.method} {route.path}")
        for route in served_routes(app):
            if set(route.parameters) & set(SECRET_PARAMETERS):
                response = await other_pages.request(route.method, route.url(SECRET_PARAMETERS))
                assert response.status_code == 404, (route, response.text)
                called.append(f"{route.method} {route.path}")
        # The hand-written list this test replaced, at least.
        assert {
            "GET /api/v1/properties/{property_id}",
            "PATCH /api/v1/properties/{property_id}",
            "DELETE /api/v1/properties/{property_id}",
            "GET /api/v1/conversations/{conversation_id}",
            "GET /api/v1/conversations/{conversation_id}/messages",
            "DELETE /api/v1/channels/{channel_id}",
            "DELETE /api/v1/api-keys/{key_id}",
            "GET /inbox/{conversation_id}",
            "POST /listings/{property_id}/delete",
            "POST /viewings/{viewing_id}/confirm",
            "POST /viewings/{viewing_id}/reschedule",
            "GET /calendar/{token}.ics",
        } <= set(called)
        # ... and nothing of the owner's changed.
        assert await owner_rows(db, api_account.account_id) == before
        prop = await client.get(
            f"/api/v1/properties/{owned['property']}", headers=api_account.headers
        )
        assert prop.json()["title"] == "Sunny T2 in Graça with terrace"

    async def test_lists_hold_only_the_callers_rows(
        self, client: httpx.AsyncClient, other_account: ApiAccount, owned: dict[str, str]
    ) -> None:
        for url in ("/api/v1/conversations", "/api/v1/channels", "/api/v1/viewings"):
            assert (await client.get(url, headers=other_account.headers)).json() == []
        props = (await client.get("/api/v1/properties", headers=other_account.headers)).json()
        items = props["items"] if isinstance(props, dict) else props
        assert items == []
        keys = (await client.get("/api/v1/api-keys", headers=other_account.headers)).json()
        assert owned["api_key"] not in [key["id"] for key in keys]


class TestAnUnmappedPathParameterFailsTheSuite:
    async def test_a_new_route_with_an_unknown_parameter_is_reported(self, app: FastAPI) -> None:
        router = app.router

        @router.get("/api/v1/widgets/{widget_id}")
        async def widget(widget_id: str) -> str:
            return widget_id

        with pytest.raises(AssertionError, match=r"GET /api/v1/widgets/\{widget_id\}: widget_id"):
            routes_with_ids(app)
