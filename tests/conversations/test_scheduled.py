"""Scheduled messages: the follow-up ladder, send-later, cancelling, and the send-time check.

The clock is moved forward (kit/clock.py) instead of waiting hours; the sweep is what wakes the
rows then due, as its periodic job would. A test that asserts nothing was sent first waits until
the queue drained.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import Service, customer_text, drained, fixture
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.races.conftest import serving
from tests.settings import defaults, tuned
from whatsapp_assistant.ai.prompt import FOLLOWUP_NOTE
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.conversations.scheduled import send as scheduled_send
from whatsapp_assistant.conversations.scheduled.models import ScheduledMessage
from whatsapp_assistant.conversations.scheduled.plan import schedule_followups
from whatsapp_assistant.conversations.states import Author, Direction, Mode
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling import viewings

Clock = Callable[[timedelta], None]
LISBON = ZoneInfo("Europe/Lisbon")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHECKING_IN = "Just checking in"


async def open_all_week(service: Service) -> None:
    """Business hours round the clock, so a follow-up is never moved to the next opening."""
    body = {
        "time_zone": "Europe/Lisbon",
        "business_hours": [{"weekday": day, "start": "00:00", "end": "24:00"} for day in WEEKDAYS],
        "viewing_minutes": 30,
        "buffer_minutes": 0,
        "notice_minutes": 120,
        "horizon_days": 14,
    }
    response = await service.client.put(
        "/api/v1/account/schedule", headers=service.account.headers, json=body
    )
    assert response.status_code == 200, response.text


async def answered_conversation(service: Service) -> Conversation:
    """The customer asked, the AI answered (sent): its follow-up ladder is scheduled."""
    await service.post_webhook(fixture("incoming_text"))
    await service.wait_for_sends(1)
    await drained(service)
    [conversation] = await service.conversations()
    return conversation


async def scheduled(service: Service, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
    response = await service.client.get(
        f"/api/v1/conversations/{conversation_id}/scheduled", headers=service.account.headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def wake_due(service: Service) -> None:
    """What the periodic sweep does, then wait until everything it woke has finished."""
    await scheduled_send.sweep(service.runtime)
    await drained(service)


def sent_texts(service: Service) -> list[str]:
    return [str(body["message"]) for body in service.green_api.sent_messages]


def travel_to(clock: Clock, when: datetime) -> None:
    clock(when - utcnow())


def next_weekday_at(weekday: int, hour: int, minute: int) -> datetime:
    """The next such wall time in Lisbon at least two days ahead, as an aware datetime."""
    day = (utcnow() + timedelta(days=2)).astimezone(LISBON).date()
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=LISBON)


class TestTheLadder:
    async def test_follow_ups_go_a_day_and_three_days_after_an_unanswered_reply(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        replied_at = utcnow()
        rows = await scheduled(service, conversation.id)
        assert [(row["kind"], row["status"]) for row in rows] == [("followup", "pending")] * 2
        due = [datetime.fromisoformat(row["due_at"]) for row in rows]
        assert abs(due[0] - replied_at - timedelta(hours=24)) < timedelta(minutes=1)
        assert abs(due[1] - replied_at - timedelta(hours=72)) < timedelta(minutes=1)

        clock(timedelta(hours=23))
        await wake_due(service)
        assert len(sent_texts(service)) == 1  # not yet due

        clock(timedelta(hours=1, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 2
        assert CHECKING_IN in sent_texts(service)[1]
        first, second = await scheduled(service, conversation.id)
        assert (first["status"], second["status"]) == ("sent", "pending")
        [out] = await service.messages(id=uuid.UUID(first["message_id"]))
        assert (out.author, out.text) == (Author.AI, sent_texts(service)[1])

        clock(timedelta(hours=48))
        await wake_due(service)
        assert len(sent_texts(service)) == 3
        clock(timedelta(days=30))
        await wake_due(service)
        assert len(sent_texts(service)) == 3  # the ladder had two steps

    async def test_a_follow_up_names_the_listings_discussed(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        async with service.db.session_scope() as session:
            listing = await create_property(
                session, service.account.account_id, title="Bright T3 in Campo de Ourique"
            )
            row = await session.get(Conversation, conversation.id)
            assert row is not None
            await schedule_followups(
                session, row, queue=service.runtime.queue, listings=[str(listing.id)]
            )
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert sent_texts(service)[1] == (
            "Hi, James! Just checking in: are you still interested in *Bright T3 in Campo de "
            "Ourique*? I'm happy to answer any questions or arrange a viewing."
        )
        # The customer's answer ("is it still free?") is read against the listing it named.
        [followup] = await service.messages(text=sent_texts(service)[1])
        assert followup.data["listings"] == [str(listing.id)]

    async def test_a_customer_reply_cancels_the_ladder_and_a_new_answer_starts_it_again(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        await service.post_webhook(customer_text("Is there parking?", message_id="3EB0REPLY0001"))
        await service.wait_for_sends(2)
        await drained(service)
        rows = sorted(await scheduled(service, conversation.id), key=lambda row: row["created_at"])
        assert [(row["status"], row["reason"]) for row in rows[:2]] == [
            ("cancelled", "the customer wrote")
        ] * 2
        assert [row["status"] for row in rows[2:]] == ["pending", "pending"]

        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 3  # one follow-up: the new ladder's first step

    async def test_a_customer_message_since_the_row_was_made_skips_it_at_send_time(
        self, service: Service, clock: Clock
    ) -> None:
        """The check reads the rows, whether or not anything cancelled the follow-up."""
        await open_all_week(service)
        conversation = await answered_conversation(service)
        async with service.db.session_scope() as session:
            session.add(
                Message(
                    account_id=conversation.account_id,
                    conversation_id=conversation.id,
                    channel_id=conversation.channel_id,
                    direction=Direction.IN,
                    author=Author.CUSTOMER,
                    text="still thinking",
                    status="received",
                    created_at=utcnow() + timedelta(hours=1),
                )
            )
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 1
        first = (await scheduled(service, conversation.id))[0]
        assert (first["status"], first["reason"]) == ("skipped", "the customer wrote since")

    async def test_a_booking_ends_the_ladder(self, service: Service, clock: Clock) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        listings = await service.client.get("/api/v1/properties", headers=service.account.headers)
        starts_at = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
        booked = await service.client.post(
            "/api/v1/viewings",
            headers=service.account.headers,
            json={
                "property_id": listings.json()["items"][0]["id"],
                "starts_at": starts_at.isoformat(),
                "customer_name": "James",
                "conversation_id": str(conversation.id),
            },
        )
        assert booked.status_code == 201, booked.text
        followups = [
            row for row in await scheduled(service, conversation.id) if row["kind"] == "followup"
        ]
        assert {(row["status"], row["reason"]) for row in followups} == {
            ("cancelled", "a viewing was booked")
        }
        await drained(service)
        told = len(sent_texts(service))  # the answer and the booking's confirmation
        clock(timedelta(days=4))
        await wake_due(service)
        assert not [text for text in sent_texts(service)[told:] if CHECKING_IN in text]

    async def test_a_viewing_booked_since_skips_the_follow_up_at_send_time(
        self, service: Service, clock: Clock
    ) -> None:
        """Booked where nothing cancels the ladder: the check finds the viewing."""
        await open_all_week(service)
        conversation = await answered_conversation(service)
        async with service.db.session_scope() as session:
            [listing] = (await session.execute(select(Property))).scalars().all()
            await viewings.book_by_agent(
                session,
                conversation.account_id,
                property_id=listing.id,
                starts_at=(utcnow() + timedelta(days=5)).replace(second=0, microsecond=0),
                customer_name="James",
                conversation_id=conversation.id,
                now=utcnow(),
            )
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 1
        first = (await scheduled(service, conversation.id))[0]
        assert (first["status"], first["reason"]) == (
            "skipped",
            "the customer has a viewing booked",
        )

    async def test_an_opt_out_cancels_every_follow_up(self, service: Service, clock: Clock) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        await service.post_webhook(customer_text("STOP", message_id="3EB0STOP0001"))
        await service.wait_for_sends(2)  # the opt-out confirmation
        rows = await scheduled(service, conversation.id)
        assert {(row["status"], row["reason"]) for row in rows} == {
            ("cancelled", "the customer opted out")
        }
        clock(timedelta(days=4))
        await wake_due(service)
        assert len(sent_texts(service)) == 2

    async def test_a_takeover_cancels_the_ladder_in_its_transaction(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        response = await service.client.post(
            f"/api/v1/conversations/{conversation.id}/mode",
            headers=service.account.headers,
            json={"mode": "human"},
        )
        assert response.status_code == 200, response.text
        rows = await scheduled(service, conversation.id)
        assert {row["status"] for row in rows} == {"cancelled"}
        assert all(row["reason"].startswith("cancelled: taken over by") for row in rows)
        clock(timedelta(days=4))
        await wake_due(service)
        assert len(sent_texts(service)) == 1

    async def test_human_mode_at_send_time_sends_nothing(
        self, service: Service, clock: Clock
    ) -> None:
        """Even a row nothing cancelled: the check reads the mode when the row is due."""
        await open_all_week(service)
        conversation = await answered_conversation(service)
        async with service.db.session_scope() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(mode=Mode.HUMAN, version=Conversation.version + 1)
            )
        clock(timedelta(days=4))
        await wake_due(service)
        assert len(sent_texts(service)) == 1
        assert {row["reason"] for row in await scheduled(service, conversation.id)} == {
            "a person took over the conversation"
        }

    async def test_outside_business_hours_the_follow_up_waits_for_the_opening(
        self, service: Service, clock: Clock
    ) -> None:
        """Default hours (Saturday 10:00-14:00, Monday from 09:00): a reply on Saturday at 13:30
        is followed up on Monday at 09:00, not on Sunday."""
        saturday = next_weekday_at(5, 13, 30)
        travel_to(clock, saturday)
        conversation = await answered_conversation(service)
        travel_to(clock, saturday + timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 1
        first = (await scheduled(service, conversation.id))[0]
        monday = datetime.combine(saturday.date() + timedelta(days=2), time(9), tzinfo=LISBON)
        assert first["status"] == "pending"
        assert datetime.fromisoformat(first["due_at"]) == monday

        travel_to(clock, monday + timedelta(minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 2
        assert CHECKING_IN in sent_texts(service)[1]

    async def test_a_second_job_for_a_row_sends_nothing_more(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        clock(timedelta(hours=24, minutes=1))
        first = (await scheduled(service, conversation.id))[0]
        outcomes = [
            await scheduled_send.send_due(service.runtime, uuid.UUID(first["id"])) for _ in range(2)
        ]
        await drained(service)
        assert outcomes == ["sent", "not pending"]
        assert len(sent_texts(service)) == 2


class TestSettings:
    async def test_a_new_account_has_the_ladder_on(self, service: Service) -> None:
        response = await service.client.get(
            "/api/v1/account/followups", headers=service.account.headers
        )
        assert response.json() == {
            "enabled": True,
            "steps_hours": [24, 72],
            "reminder_day_before": True,
            "reminder_hour_before": True,
        }

    async def test_the_agent_changes_the_ladder_and_the_next_reply_uses_it(
        self, service: Service
    ) -> None:
        body = {
            "enabled": True,
            "steps_hours": [2, 48, 168],
            "reminder_day_before": False,
            "reminder_hour_before": True,
        }
        put = await service.client.put(
            "/api/v1/account/followups", headers=service.account.headers, json=body
        )
        assert (put.status_code, put.json()) == (200, body)
        got = await service.client.get("/api/v1/account/followups", headers=service.account.headers)
        assert got.json() == body
        conversation = await answered_conversation(service)
        rows = await scheduled(service, conversation.id)
        gaps = [datetime.fromisoformat(row["due_at"]) - utcnow() for row in rows]
        assert [round(gap / timedelta(hours=1)) for gap in gaps] == [2, 48, 168]

    async def test_turned_off_no_follow_up_is_scheduled(self, service: Service) -> None:
        body = {
            "enabled": False,
            "steps_hours": [24],
            "reminder_day_before": True,
            "reminder_hour_before": True,
        }
        put = await service.client.put(
            "/api/v1/account/followups", headers=service.account.headers, json=body
        )
        assert put.status_code == 200, put.text
        conversation = await answered_conversation(service)
        assert await scheduled(service, conversation.id) == []

    @pytest.mark.parametrize(
        "steps",
        [[], [72, 24], [24, 24], [0], [721], [1, 2, 3, 4, 5, 6], ["a day"], None],
        ids=["none", "decreasing", "repeated", "zero", "past-30-days", "six", "text", "null"],
    )
    async def test_a_bad_ladder_answers_422_and_changes_nothing(
        self, service: Service, steps: object
    ) -> None:
        body = {
            "enabled": True,
            "steps_hours": steps,
            "reminder_day_before": True,
            "reminder_hour_before": True,
        }
        put = await service.client.put(
            "/api/v1/account/followups", headers=service.account.headers, json=body
        )
        assert put.status_code == 422, put.text
        assert put.json()["error"]["field"].startswith("steps_hours"), put.text
        got = await service.client.get("/api/v1/account/followups", headers=service.account.headers)
        assert got.json()["steps_hours"] == [24, 72]


class TestSendLater:
    async def test_the_agents_message_goes_at_its_time_even_in_human_mode(
        self, service: Service, clock: Clock
    ) -> None:
        conversation = await answered_conversation(service)
        await service.client.post(
            f"/api/v1/conversations/{conversation.id}/mode",
            headers=service.account.headers,
            json={"mode": "human"},
        )
        due = (utcnow() + timedelta(hours=3)).astimezone(LISBON)
        created = await service.client.post(
            f"/api/v1/conversations/{conversation.id}/scheduled",
            headers=service.account.headers,
            json={"text": "Good morning James, the owner said yes!", "due_at": due.isoformat()},
        )
        assert created.status_code == 201, created.text
        assert (created.json()["kind"], created.json()["status"]) == ("manual", "pending")

        clock(timedelta(hours=2))
        await wake_due(service)
        assert len(sent_texts(service)) == 1
        clock(timedelta(hours=1, minutes=1))
        await wake_due(service)
        assert sent_texts(service)[1] == "Good morning James, the owner said yes!"
        [out] = await service.messages(text="Good morning James, the owner said yes!")
        assert out.author == Author.HUMAN
        rows = await scheduled(service, conversation.id)
        assert [row["status"] for row in rows if row["kind"] == "manual"] == ["sent"]

    @pytest.mark.parametrize(
        "body",
        [
            {"text": "hi", "due_at": "2020-01-01T10:00:00+00:00"},
            {"text": "hi", "due_at": "2031-01-01T10:00:00"},
            {"text": "", "due_at": "2031-01-01T10:00:00+00:00"},
            {"text": "hi"},
            {"text": "hi", "due_at": "next monday"},
            {"text": "hi", "due_at": "2031-01-01T10:00:00+00:00", "extra": 1},
        ],
        ids=["past", "no-offset", "empty", "no-time", "words", "extra-field"],
    )
    async def test_bad_input_answers_422_and_schedules_nothing(
        self, service: Service, body: dict[str, Any]
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        [conversation] = await service.conversations()
        await drained(service)
        before = await scheduled(service, conversation.id)
        response = await service.client.post(
            f"/api/v1/conversations/{conversation.id}/scheduled",
            headers=service.account.headers,
            json=body,
        )
        assert response.status_code == 422, response.text
        assert await scheduled(service, conversation.id) == before


class TestCancel:
    async def test_the_agent_cancels_a_pending_row_once(
        self, service: Service, clock: Clock
    ) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        first = (await scheduled(service, conversation.id))[0]
        deleted = await service.client.delete(
            f"/api/v1/scheduled/{first['id']}", headers=service.account.headers
        )
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["status"] == "cancelled"
        again = await service.client.delete(
            f"/api/v1/scheduled/{first['id']}", headers=service.account.headers
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "scheduled_not_pending"

        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert len(sent_texts(service)) == 1

    async def test_a_sent_row_cannot_be_cancelled(self, service: Service, clock: Clock) -> None:
        await open_all_week(service)
        conversation = await answered_conversation(service)
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        first = (await scheduled(service, conversation.id))[0]
        assert first["status"] == "sent"
        response = await service.client.delete(
            f"/api/v1/scheduled/{first['id']}", headers=service.account.headers
        )
        assert response.status_code == 409, response.text
        assert (await scheduled(service, conversation.id))[0]["status"] == "sent"

    async def test_another_accounts_row_and_conversation_answer_404(
        self, service: Service, other_account: ApiAccount
    ) -> None:
        conversation = await answered_conversation(service)
        first = (await scheduled(service, conversation.id))[0]
        other = other_account.headers
        calls = [
            await service.client.delete(f"/api/v1/scheduled/{first['id']}", headers=other),
            await service.client.get(
                f"/api/v1/conversations/{conversation.id}/scheduled", headers=other
            ),
            await service.client.post(
                f"/api/v1/conversations/{conversation.id}/scheduled",
                headers=other,
                json={"text": "hi", "due_at": "2031-01-01T10:00:00+00:00"},
            ),
            await service.client.delete(f"/api/v1/scheduled/{uuid.uuid4()}", headers=other),
        ]
        assert [call.status_code for call in calls] == [404] * 4
        assert [(await scheduled(service, conversation.id))[0]["status"]] == ["pending"]
        async with service.db.session_scope() as session:
            rows = (await session.execute(select(ScheduledMessage))).scalars().all()
        assert len(rows) == 2


class TestWrittenByTheModel:
    async def test_with_a_real_model_the_follow_up_is_written_from_the_conversation(
        self, claude_service: Service, fake_anthropic: FakeAnthropic, clock: Clock
    ) -> None:
        service = claude_service
        await open_all_week(service)
        await answered_conversation(service)
        asked = len(fake_anthropic.requests)
        fake_anthropic.queue_text("Hi James, still thinking about Graça? I can show it Friday.")
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)

        assert sent_texts(service)[-1] == (
            "Hi James, still thinking about Graça? I can show it Friday."
        )
        [request] = fake_anthropic.requests[asked:]
        system = " ".join(block["text"] for block in request.body["system"])
        assert "the customer has not answered your last message" in system
        messages = request.body["messages"]
        assert messages[-1] == {"role": "user", "content": FOLLOWUP_NOTE}
        assert messages[-2]["role"] == "assistant"
        assert messages[-2]["content"] == sent_texts(service)[0]

    async def test_when_the_model_fails_the_template_goes(
        self, claude_service: Service, fake_anthropic: FakeAnthropic, clock: Clock
    ) -> None:
        service = claude_service
        await open_all_week(service)
        await answered_conversation(service)
        fake_anthropic.queue_error(400)
        clock(timedelta(hours=24, minutes=1))
        await wake_due(service)
        assert CHECKING_IN in sent_texts(service)[-1]


class TestDemoClock:
    async def test_the_demo_moves_the_clock_and_the_follow_up_goes(
        self,
        settings: Settings,
        db: Database,
        api_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        clock: Clock,
    ) -> None:
        async with db.session_scope() as session:
            await create_property(session, api_account.account_id)
        demo = tuned(settings, demo_clock=True)
        async with serving(demo, db, api_account, fake_green_api) as service:
            await open_all_week(service)
            await answered_conversation(service)
            moved = await service.client.post(
                "/api/v1/simulator/clock", headers=api_account.headers, json={"hours": 24.5}
            )
            assert moved.status_code == 200, moved.text
            assert moved.json()["woken"] == 1
            assert datetime.fromisoformat(moved.json()["now"]) > utcnow() - timedelta(minutes=1)
            await drained(service)
            assert CHECKING_IN in sent_texts(service)[-1]

    async def test_without_the_demo_the_clock_stays(self, service: Service) -> None:
        before = utcnow()
        for body in ({"hours": 24}, {"hours": 0}, {"hours": -1}, {}):
            response = await service.client.post(
                "/api/v1/simulator/clock", headers=service.account.headers, json=body
            )
            assert response.status_code in (409, 422), response.text
        refused = await service.client.post(
            "/api/v1/simulator/clock", headers=service.account.headers, json={"hours": 24}
        )
        assert refused.json()["error"]["code"] == "clock_fixed"
        assert utcnow() - before < timedelta(minutes=5)

    def test_production_refuses_the_demo_clock(self) -> None:
        with pytest.raises(ValueError, match="DEMO_CLOCK"):
            tuned(
                defaults(),
                environment="production",
                secret_key="x" * 40,
                demo_clock=True,
            )
