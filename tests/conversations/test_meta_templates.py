"""Templates on a Meta channel: the list fetched from Graph with its approval state, mapping
only an approved one, and the follow-up that goes as that template (its parameters filled) once
the 24-hour window has closed; unmapped it is not sent, and a refusal fails it, reasons shown."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.conversations.harness import Service, drained
from tests.conversations.meta_harness import MetaService
from tests.conversations.test_meta_window import meta_text, outbound
from tests.conversations.test_scheduled import (
    next_weekday_at,
    open_all_week,
    scheduled,
    travel_to,
)
from whatsapp_assistant.channels.models import TemplateMapping
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.scheduled import send as scheduled_send
from whatsapp_assistant.conversations.states import MessageStatus
from whatsapp_assistant.kit.clock import utcnow

Clock = Callable[[timedelta], None]


async def channel_id(service: MetaService | Service) -> str:
    response = await service.client.get("/api/v1/channels", headers=service.account.headers)
    [channel] = [c for c in response.json() if c["type"] != "simulator"]
    return str(channel["id"])


async def map_followup(service: MetaService, name: str, language: str) -> Any:
    url = f"/api/v1/channels/{await channel_id(service)}/templates"
    body = {"purpose": "followup", "template": {"name": name, "language": language}}
    return await service.client.put(url, headers=service.account.headers, json=body)


async def followup_due(service: MetaService, clock: Clock) -> uuid.UUID:
    """Ana asked, the AI answered in the window; a day later her follow-up is due and sent."""
    await open_all_week(service)  # type: ignore[arg-type]
    await service.post_webhook(meta_text("Olá, procuro um T2"))
    await service.wait_for_sends(1)
    await drained(service.runtime)
    async with service.db.session_scope() as session:
        [conversation_id] = (await session.execute(select(Conversation.id))).scalars()
    clock(timedelta(hours=24, minutes=1))
    await scheduled_send.sweep(service.runtime)
    await drained(service.runtime)
    return conversation_id


class TestTheList:
    async def test_templates_come_from_graph_with_their_approval_state(
        self, meta_service: MetaService
    ) -> None:
        response = await meta_service.client.get(
            f"/api/v1/channels/{await channel_id(meta_service)}/templates",
            headers=meta_service.account.headers,
        )
        assert response.status_code == 200, response.text
        listed = {
            (t["name"], t["status"], t["parameter_count"]) for t in response.json()["templates"]
        }
        assert listed == {
            ("follow_up", "APPROVED", 1),
            ("viewing_reminder", "APPROVED", 3),
            ("new_listings", "PENDING", 1),  # on the second page: paging.next was followed
        }
        assert response.json()["mappings"] == []

    async def test_only_an_approved_template_that_fits_is_mapped(
        self, meta_service: MetaService
    ) -> None:
        pending = await map_followup(meta_service, "new_listings", "en_US")
        assert pending.status_code == 422
        assert pending.json()["error"]["code"] == "template_not_approved"
        unknown = await map_followup(meta_service, "follow_up", "pt_BR")
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "template_not_found"
        too_many = await map_followup(meta_service, "viewing_reminder", "pt_PT")
        assert too_many.status_code == 422
        assert too_many.json()["error"]["code"] == "template_does_not_fit"
        async with meta_service.db.session_scope() as session:
            assert list((await session.execute(select(TemplateMapping))).scalars()) == []

        mapped = await map_followup(meta_service, "follow_up", "en_US")
        assert mapped.status_code == 200, mapped.text
        assert mapped.json() == [
            {"purpose": "followup", "name": "follow_up", "language": "en_US", "parameter_count": 1}
        ]

    async def test_a_green_api_channel_has_no_templates(self, service: Service) -> None:
        response = await service.client.get(
            f"/api/v1/channels/{await channel_id(service)}/templates",
            headers=service.account.headers,
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "channel_has_no_templates"


class TestFollowUpOutsideTheWindow:
    async def test_it_goes_as_the_mapped_template_with_the_customers_name(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        assert (await map_followup(meta_service, "follow_up", "en_US")).status_code == 200
        conversation_id = await followup_due(meta_service, clock)
        assert meta_service.graph.sent_templates == [
            {
                "name": "follow_up",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
            }
        ]
        first = (await scheduled(meta_service, conversation_id))[0]  # type: ignore[arg-type]
        assert first["status"] == "sent"
        rows = await outbound(meta_service)
        assert [row.status for row in rows] == [MessageStatus.SENT] * 2

    async def test_unmapped_it_is_not_sent_and_the_thread_says_why(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        conversation_id = await followup_due(meta_service, clock)
        assert len(meta_service.graph.sent_messages) == 1  # the first answer only
        rows = await outbound(meta_service)
        assert rows[1].status == MessageStatus.FAILED
        assert rows[1].error is not None and "no approved template is mapped" in rows[1].error
        first = (await scheduled(meta_service, conversation_id))[0]  # type: ignore[arg-type]
        assert first["status"] == "skipped"
        assert "no approved template" in first["reason"]

    async def test_a_template_graph_refuses_fails_with_the_reason_and_is_not_retried(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        assert (await map_followup(meta_service, "follow_up", "en_US")).status_code == 200
        # Deleted in Meta's dashboard after it was mapped: Graph answers 132001.
        graph = meta_service.graph
        graph.templates = [t for t in graph.templates if t["name"] != "follow_up"]
        await followup_due(meta_service, clock)
        rows = await outbound(meta_service)
        assert rows[1].status == MessageStatus.FAILED
        assert rows[1].error is not None and "132001" in rows[1].error
        tried = [
            r
            for r in meta_service.graph.requests
            if isinstance(r.json, dict) and r.json.get("type") == "template"
        ]
        assert len(tried) == 1


class TestReminderOutsideTheWindow:
    async def test_it_goes_as_the_named_template_with_the_name_time_and_listing(
        self, meta_service: MetaService, clock: Clock
    ) -> None:
        body = {
            "purpose": "reminder",
            "template": {"name": "viewing_reminder", "language": "pt_PT"},
        }
        mapped = await meta_service.client.put(
            f"/api/v1/channels/{await channel_id(meta_service)}/templates",
            headers=meta_service.account.headers,
            json=body,
        )
        assert mapped.status_code == 200, mapped.text
        await meta_service.post_webhook(meta_text("Olá, procuro um T2"))
        await meta_service.wait_for_sends(1)
        await drained(meta_service.runtime)
        async with meta_service.db.session_scope() as session:
            [conversation_id] = (await session.execute(select(Conversation.id))).scalars()
        listings = await meta_service.client.get(
            "/api/v1/properties", headers=meta_service.account.headers
        )
        listing = listings.json()["items"][0]
        # A Wednesday whose reminder, a day before, falls after the window has closed: a day
        # after the customer's message, whatever the time of day the test runs.
        wednesday = next_weekday_at(2, 15, 0)
        while wednesday - timedelta(days=1) <= utcnow() + timedelta(days=1, hours=1):
            wednesday += timedelta(days=7)
        booked = await meta_service.client.post(
            "/api/v1/viewings",
            headers=meta_service.account.headers,
            json={
                "property_id": listing["id"],
                "starts_at": wednesday.isoformat(),
                "customer_name": "Ana",
                "conversation_id": str(conversation_id),
            },
        )
        assert booked.status_code == 201, booked.text
        await drained(meta_service.runtime)

        travel_to(clock, wednesday - timedelta(days=1) + timedelta(minutes=1))
        await scheduled_send.sweep(meta_service.runtime)
        await drained(meta_service.runtime)
        [reminder] = meta_service.graph.sent_templates
        assert (reminder["name"], reminder["language"]) == ("viewing_reminder", {"code": "pt_PT"})
        [parameters] = [c["parameters"] for c in reminder["components"]]
        named = {p["parameter_name"]: p["text"] for p in parameters}
        assert named["first_name"] == "Ana"
        assert "15:00" in named["when"]
        assert named["listing"] == listing["title"]
