"""The offline assistant books viewings in the conversation, in en/es/pt: from the first
question to the confirmation, then moved or cancelled by the customer's own words."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.builders import create_property
from tests.conversations.harness import Service, customer_text, drained, wait_until
from tests.web.signin import sign_in
from whatsapp_assistant.conversations.models import Contact, Message
from whatsapp_assistant.kit.clock import utcnow
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.models import Viewing

LISBON = ZoneInfo("Europe/Lisbon")
TITLE = "Sunny T2 in Graça with terrace"


async def _say(service: Service, text: str) -> str:
    """Send one customer message and wait until everything it caused went out; the newest text
    sent to the customer."""
    before = len(service.green_api.sent_messages)
    await service.post_webhook(customer_text(text))
    await wait_until(lambda: len(service.green_api.sent_messages) > before)
    [conversation] = await service.conversations()
    await drained(service, conversation.id)
    message: str = service.green_api.sent_messages[-1]["message"]
    return message


async def _offered(service: Service) -> list[datetime]:
    """The times the newest AI reply offered, as stored with it."""
    async with service.db.session_scope() as session:
        rows = (
            await session.execute(
                select(Message.data)
                .where(Message.author == "ai")
                .order_by(Message.created_at.desc())
                .limit(1)
            )
        ).scalars()
        data: dict[str, Any] = next(iter(rows))
    return [datetime.fromisoformat(slot) for slot in data["offer"]["slots"]]


async def _free(service: Service) -> set[datetime]:
    async with service.db.session_scope() as session:
        listing = (await session.execute(select(Property.id))).scalar_one()
        now = utcnow()
        free = await viewings.free_for_listing(
            session,
            service.account.account_id,
            listing,
            start=now,
            end=now + timedelta(days=15),
            now=now,
            limit=1000,
        )
    return set(free)


async def _viewings(service: Service) -> list[Viewing]:
    async with service.db.session_scope() as session:
        return list((await session.execute(select(Viewing).order_by(Viewing.created_at))).scalars())


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LISBON)


class TestEnglish:
    async def test_asked_for_saturday_offered_saturday_booked_the_second_then_cancelled(
        self, service: Service
    ) -> None:
        free = await _free(service)
        reply = await _say(service, "I'd like to see the Graça flat, are you free on Saturday?")

        assert f"I can show you *{TITLE}* at:" in reply
        offered = await _offered(service)
        assert 2 <= len(offered) <= 3
        assert set(offered) <= free
        assert {_local(slot).strftime("%A") for slot in offered} == {"Saturday"}
        assert "1) Sat" in reply and "Which one suits you?" in reply

        confirmation = await _say(service, "the second one")
        [viewing] = await _viewings(service)
        assert viewing.starts_at == offered[1]
        assert (viewing.status, viewing.booked_by) == ("confirmed", "ai")
        assert f"Your viewing of *{TITLE}* is booked for Saturday" in confirmation
        await wait_until(lambda: len(service.green_api.sent_files) == 1)

        cancelled = await _say(service, "Sorry, I can't make it anymore")
        [viewing] = await _viewings(service)
        assert (viewing.status, viewing.cancel_reason) == ("cancelled", "customer")
        assert cancelled.startswith(f"Done: your viewing of *{TITLE}*")

    async def test_a_booked_viewing_is_moved_to_the_day_asked_for(self, service: Service) -> None:
        await _say(service, "Can I visit the Graça apartment?")
        first = await _offered(service)
        await _say(service, "1")
        await _say(service, "Can we move it to Monday?")
        monday = await _offered(service)
        assert {_local(slot).strftime("%A") for slot in monday} == {"Monday"}

        moved = await _say(service, "the first one")
        [viewing] = await _viewings(service)
        assert viewing.starts_at == monday[0] != first[0]
        assert viewing.sequence == 1
        assert "has moved to Monday" in moved
        await wait_until(lambda: len(service.green_api.sent_files) == 2)

    async def test_an_answer_that_names_no_offered_time_books_nothing(
        self, service: Service
    ) -> None:
        await _say(service, "I'd like to see the Graça flat")
        await _say(service, "Thanks, I'll think about it")
        assert await _viewings(service) == []
        assert service.green_api.sent_files == []

    async def test_without_a_listing_in_view_it_asks_which_one(self, service: Service) -> None:
        reply = await _say(service, "Can I book a viewing?")
        assert "Which property would you like to see?" in reply
        assert await _viewings(service) == []


class TestSpanish:
    async def test_an_afternoon_asked_for_and_a_time_chosen_by_its_clock(
        self, service: Service
    ) -> None:
        reply = await _say(service, "Hola, ¿puedo ver el piso de Graça el martes por la tarde?")
        assert f"Puedo enseñarle *{TITLE}* en estos horarios:" in reply
        offered = await _offered(service)
        assert {_local(slot).strftime("%A") for slot in offered} == {"Tuesday"}
        assert all(12 <= _local(slot).hour < 20 for slot in offered)

        last = _local(offered[-1])
        confirmation = await _say(service, f"El martes a las {last:%H:%M}, perfecto")
        [viewing] = await _viewings(service)
        assert viewing.starts_at == offered[-1]
        assert f"Su visita a *{TITLE}* está reservada para el martes" in confirmation


class TestPortuguese:
    async def test_booked_by_position_then_cancelled_without_opting_out(
        self, service: Service
    ) -> None:
        reply = await _say(service, "Olá! Queria visitar o apartamento da Graça no sábado de manhã")
        assert f"Posso mostrar-lhe *{TITLE}* nestes horários:" in reply
        offered = await _offered(service)
        assert all(_local(slot).hour < 12 for slot in offered)

        confirmation = await _say(service, "a primeira opção, obrigado")
        [viewing] = await _viewings(service)
        assert viewing.starts_at == offered[0]
        assert f"A sua visita a *{TITLE}* está marcada para sábado" in confirmation

        cancelled = await _say(service, "Afinal tenho de cancelar a visita")
        [viewing] = await _viewings(service)
        assert viewing.status == "cancelled"
        assert cancelled.startswith(f"Feito: a sua visita a *{TITLE}*")
        async with service.db.session_scope() as session:
            contact = (await session.execute(select(Contact))).scalar_one()
            assert contact.opted_out_at is None


class TestApproval:
    async def test_a_request_flags_the_conversation_until_the_agent_confirms_it(
        self, service: Service
    ) -> None:
        async with service.db.session_scope() as session:
            listing = (await session.execute(select(Property))).scalar_one()
            listing.viewings = "approval"
        await _say(service, "Can I see the Graça flat?")
        requested = await _say(service, "2")

        [viewing] = await _viewings(service)
        assert viewing.status == "requested"
        assert "has been sent" in requested and service.green_api.sent_files == []
        [conversation] = await service.conversations()
        assert conversation.escalated
        await sign_in(service.client, service.account.email)
        thread = await service.client.get(f"/inbox/{conversation.id}")
        assert "Needs you: a viewing to approve" in thread.text
        assert f"{TITLE} · requested" in thread.text

        response = await service.client.post(
            f"/api/v1/viewings/{viewing.id}/confirm", headers=service.account.headers
        )
        assert response.status_code == 200, response.text
        await wait_until(lambda: len(service.green_api.sent_files) == 1)
        assert "is confirmed" in service.green_api.sent_messages[-1]["message"]
        [conversation] = await service.conversations()
        assert not conversation.escalated
        thread = await service.client.get(f"/inbox/{conversation.id}")
        assert "a viewing to approve" not in thread.text
        assert f"{TITLE} · confirmed" in thread.text


class TestListingsDiscussed:
    async def test_a_reply_keeps_only_the_listings_it_names(self, service: Service) -> None:
        async with service.db.session_scope() as session:
            await create_property(
                session,
                service.account.account_id,
                title="Bright T1 in Arroios",
                neighborhood="Arroios",
                listing_type="rent",
                bedrooms=1,
            )
            graca = (
                await session.execute(select(Property.id).where(Property.title == TITLE))
            ).scalar_one()
        reply = await _say(service, "Any 2 bedroom flats for sale in Lisbon?")

        assert TITLE in reply and "Arroios" not in reply
        async with service.db.session_scope() as session:
            data = (
                await session.execute(select(Message.data).where(Message.author == "ai"))
            ).scalar_one()
        assert data["listings"] == [str(graca)]
