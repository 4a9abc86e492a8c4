"""Viewing reminders and the after-viewing note: planned in business hours, sent in the
conversation's language with the account's time, and never for a viewing that moved or ended."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import update

from tests.builders import create_property
from tests.conversations.harness import Service, customer_text, drained
from tests.conversations.test_scheduled import (
    LISBON,
    Clock,
    answered_conversation,
    next_weekday_at,
    open_all_week,
    scheduled,
    sent_texts,
    travel_to,
    wake_due,
)
from whatsapp_assistant.conversations.models import Conversation
from whatsapp_assistant.conversations.states import Author
from whatsapp_assistant.scheduling.models import Viewing


async def book(service: Service, conversation: Conversation, starts_at: datetime) -> str:
    """The agent books a viewing in the conversation (its reminders are planned with it)."""
    response = await service.client.post(
        "/api/v1/viewings",
        headers=service.account.headers,
        json={
            "property_id": str(await _listing(service)),
            "starts_at": starts_at.isoformat(),
            "customer_name": "James",
            "conversation_id": str(conversation.id),
        },
    )
    assert response.status_code == 201, response.text
    await drained(service)  # the confirmation and its invitation
    return str(response.json()["id"])


async def change(service: Service, viewing_id: str, action: str, **body: str) -> None:
    response = await service.client.post(
        f"/api/v1/viewings/{viewing_id}/{action}",
        headers=service.account.headers,
        json=body or None,
    )
    assert response.status_code == 200, response.text
    await drained(service)


def reminded(service: Service) -> list[str]:
    starts = ("A reminder:", "See you soon!")
    return [text for text in sent_texts(service) if text.startswith(starts)]


async def _listing(service: Service) -> uuid.UUID:
    listings = await service.client.get("/api/v1/properties", headers=service.account.headers)
    return uuid.UUID(listings.json()["items"][0]["id"])


async def reminders(service: Service, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    return [row for row in await scheduled(service, conversation_id) if row["kind"] == "reminder"]


class TestReminders:
    async def test_the_day_before_and_the_hour_before_in_the_customers_language(
        self, service: Service, clock: Clock
    ) -> None:
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        await book(service, conversation, wednesday)
        rows = await reminders(service, conversation.id)
        assert [datetime.fromisoformat(row["due_at"]) for row in rows] == [
            wednesday - timedelta(days=1),
            wednesday - timedelta(hours=1),
        ]

        travel_to(clock, wednesday - timedelta(days=1) + timedelta(minutes=1))
        await wake_due(service)
        [day] = reminded(service)
        assert day.startswith("A reminder: your viewing of *Sunny T2 in Graça with terrace* is ")
        assert "tomorrow" in day and "at 15:00" in day
        travel_to(clock, wednesday - timedelta(minutes=59))
        await wake_due(service)
        assert sent_texts(service)[-1].startswith(
            "See you soon! Your viewing of *Sunny T2 in Graça with terrace* is today at 15:00."
        )
        out = await service.messages(author=Author.SYSTEM)
        assert [message.text for message in out][-2:] == sent_texts(service)[-2:]
        assert len(reminded(service)) == 2

    async def test_a_reminder_outside_business_hours_moves_back_into_them(
        self, service: Service
    ) -> None:
        """A Monday 09:00 viewing: an hour before is 08:00 and the day before is Sunday, both
        closed; the last open minute before either is Saturday 13:59 (default hours), so one
        reminder is planned, then."""
        conversation = await answered_conversation(service)
        monday = next_weekday_at(0, 9, 0)
        await book(service, conversation, monday)
        saturday = datetime.combine(monday.date() - timedelta(days=2), time(13, 59), LISBON)
        rows = await reminders(service, conversation.id)
        assert [datetime.fromisoformat(row["due_at"]) for row in rows] == [saturday]

    async def test_a_moved_viewing_gets_new_reminders_and_the_old_ones_never_go(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        viewing_id = await book(service, conversation, wednesday)
        thursday = wednesday + timedelta(days=1)
        await change(service, viewing_id, "reschedule", starts_at=thursday.isoformat())
        rows = await reminders(service, conversation.id)
        assert [row["status"] for row in rows] == ["cancelled", "cancelled", "pending", "pending"]
        assert {datetime.fromisoformat(row["due_at"]) for row in rows[2:]} == {
            thursday - timedelta(days=1),
            thursday - timedelta(hours=1),
        }
        travel_to(clock, thursday - timedelta(minutes=30))
        await wake_due(service)
        assert len(reminded(service)) == 2  # the new ones only

    async def test_a_viewing_moved_without_new_reminders_is_not_reminded_at_the_old_time(
        self, service: Service, clock: Clock
    ) -> None:
        """The send-time check compares the viewing's start with the one the row was made for."""
        await open_all_week(service)
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        viewing_id = await book(service, conversation, wednesday)
        async with service.db.session_scope() as session:
            await session.execute(
                update(Viewing)
                .where(Viewing.id == uuid.UUID(viewing_id))
                .values(
                    starts_at=wednesday + timedelta(days=2),
                    ends_at=wednesday + timedelta(days=2, minutes=30),
                )
            )
        travel_to(clock, wednesday)
        await wake_due(service)
        assert [row["reason"] for row in await reminders(service, conversation.id)] == [
            "the viewing was cancelled or moved"
        ] * 2
        assert reminded(service) == []

    async def test_a_cancelled_viewing_cancels_its_reminders(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        viewing_id = await book(service, conversation, wednesday)
        await change(service, viewing_id, "cancel")
        assert {row["status"] for row in await reminders(service, conversation.id)} == {"cancelled"}
        travel_to(clock, wednesday)
        await wake_due(service)
        assert reminded(service) == []

    async def test_a_takeover_stops_reminders_but_one_the_agent_keeps(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        await book(service, conversation, wednesday)
        _, hour = await reminders(service, conversation.id)
        kept = await service.client.patch(
            f"/api/v1/scheduled/{hour['id']}",
            headers=service.account.headers,
            json={"keep_in_human": True},
        )
        assert (kept.status_code, kept.json()["keep_in_human"]) == (200, True), kept.text
        response = await service.client.post(
            f"/api/v1/conversations/{conversation.id}/mode",
            headers=service.account.headers,
            json={"mode": "human"},
        )
        assert response.status_code == 200, response.text
        travel_to(clock, wednesday - timedelta(minutes=30))
        await wake_due(service)
        rows = await reminders(service, conversation.id)
        assert [row["status"] for row in rows] == ["cancelled", "sent"]
        assert sent_texts(service)[-1].startswith("See you soon!")
        await drained(service)

    async def test_only_a_pending_reminder_can_be_kept(self, service: Service) -> None:
        conversation = await answered_conversation(service)
        followup = (await scheduled(service, conversation.id))[0]
        headers = service.account.headers
        refused = await service.client.patch(
            f"/api/v1/scheduled/{followup['id']}", headers=headers, json={"keep_in_human": True}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "only_reminders_kept"
        for body in ({"keep_in_human": "yes please"}, {}, {"keep_in_human": True, "text": "x"}):
            bad = await service.client.patch(
                f"/api/v1/scheduled/{followup['id']}", headers=headers, json=body
            )
            assert bad.status_code == 422, bad.text
        assert (await scheduled(service, conversation.id))[0] == followup


class TestAfterTheViewing:
    async def test_a_done_viewing_asks_how_it_went_and_offers_similar_listings(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        wednesday = next_weekday_at(2, 15, 0)
        viewing_id = await book(service, conversation, wednesday)
        async with service.db.session_scope() as session:
            await create_property(
                session,
                service.account.account_id,
                title="Quiet T2 near Graça viewpoint",
                reference="GR-2",
            )
            await create_property(
                session,
                service.account.account_id,
                title="T2 in Graça for rent",
                listing_type="rent",
                reference="GR-3",
            )
        travel_to(clock, wednesday + timedelta(minutes=40))
        await change(service, viewing_id, "done")
        await wake_due(service)
        assert sent_texts(service)[-1] == (
            "How did the viewing of *Sunny T2 in Graça with terrace* go? I'd love to hear what "
            "you thought.\n\nIf you'd like to see more, these are similar:\n"
            "• Quiet T2 near Graça viewpoint"
        )
        [after] = [
            row
            for row in await scheduled(service, conversation.id)
            if row["kind"] == "after_viewing"
        ]
        assert after["status"] == "sent"


class TestBookedInTheConversation:
    async def test_the_assistants_booking_ends_the_ladder_and_plans_the_reminders(
        self, service: Service
    ) -> None:
        await service.post_webhook(
            customer_text("I'd like to see the Graça flat, are you free on Saturday?")
        )
        await service.wait_for_sends(1)
        await drained(service)
        [conversation] = await service.conversations()
        offered = await scheduled(service, conversation.id)
        assert [(row["kind"], row["status"]) for row in offered] == [("followup", "pending")] * 2

        await service.post_webhook(customer_text("the second one", message_id="3EB0PICK0002"))
        await service.wait_for_sends(2)
        await drained(service)
        rows = await scheduled(service, conversation.id)
        # The answer stopped the first ladder; the booking reply started none.
        followups = [(row["status"], row["reason"]) for row in rows if row["kind"] == "followup"]
        assert followups == [("cancelled", "the customer wrote")] * 2
        reminder_states = [row["status"] for row in rows if row["kind"] == "reminder"]
        assert reminder_states and set(reminder_states) == {"pending"}
