"""scheduling.viewings: booking a listing's free slots, the refusals, and each change of state."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from tests.builders import create_property
from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.errors import DomainError
from whatsapp_assistant.scheduling import viewings
from whatsapp_assistant.scheduling.errors import (
    ListingNotFound,
    SlotNotOffered,
    SlotTaken,
    TransitionRefused,
    ViewingsOff,
)
from whatsapp_assistant.scheduling.models import BookedBy, CancelReason, Viewing

# A Monday in February: Lisbon is on UTC, the default slots run 09:00-19:00 and need 2 h notice.
NOW = datetime(2027, 2, 1, 8, tzinfo=UTC)
TEN = NOW.replace(hour=10)
HALF_PAST_TEN = NOW.replace(hour=10, minute=30)
EVENING = NOW.replace(hour=20)
SUNDAY = datetime(2027, 2, 7, 11, tzinfo=UTC)


async def listing(db: Database, account: ApiAccount, viewings_policy: str = "on") -> uuid.UUID:
    async with db.session_scope() as session:
        prop = await create_property(session, account.account_id, viewings=viewings_policy)
        return prop.id


async def book(
    db: Database, account: ApiAccount, property_id: uuid.UUID, starts_at: datetime = TEN
) -> Viewing:
    async with db.session_scope() as session:
        return await viewings.book(
            session,
            account.account_id,
            property_id=property_id,
            starts_at=starts_at,
            customer_name="Ana Sousa",
            conversation_id=None,
            now=NOW,
        )


async def stored(db: Database, account: ApiAccount) -> list[tuple[datetime, str, int]]:
    async with db.session_scope() as session:
        rows = await viewings.list_viewings(session, account.account_id)
        return [(row.starts_at, row.status, row.sequence) for row in rows]


async def free(db: Database, account: ApiAccount, property_id: uuid.UUID) -> list[datetime]:
    async with db.session_scope() as session:
        return await viewings.free_for_listing(
            session,
            account.account_id,
            property_id,
            start=NOW,
            end=NOW + timedelta(days=1),
            now=NOW,
            limit=3,
        )


class TestBook:
    async def test_a_free_slot_is_confirmed_for_the_schedules_length(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account))
        assert (viewing.status, viewing.booked_by, viewing.sequence) == ("confirmed", "ai", 0)
        assert (viewing.starts_at, viewing.ends_at) == (TEN, HALF_PAST_TEN)
        assert await stored(db, api_account) == [(TEN, "confirmed", 0)]

    async def test_a_listing_that_needs_approval_is_requested(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account, "approval"))
        assert viewing.status == "requested"

    async def test_a_listing_without_viewings_is_refused(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account, "off")
        with pytest.raises(ViewingsOff):
            await book(db, api_account, property_id)
        with pytest.raises(ViewingsOff):
            await free(db, api_account, property_id)
        assert await stored(db, api_account) == []

    @pytest.mark.parametrize(
        "starts_at",
        [EVENING, SUNDAY, NOW.replace(hour=9), TEN + timedelta(minutes=10)],
        ids=["after hours", "sunday", "inside the notice", "between slots"],
    )
    async def test_a_time_the_agent_does_not_offer_is_refused(
        self, db: Database, api_account: ApiAccount, starts_at: datetime
    ) -> None:
        with pytest.raises(SlotNotOffered):
            await book(db, api_account, await listing(db, api_account), starts_at)
        assert await stored(db, api_account) == []

    async def test_the_same_slot_twice_offers_the_next_free_ones(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        await book(db, api_account, property_id)
        with pytest.raises(SlotTaken) as taken:
            await book(db, api_account, await listing(db, api_account))
        assert taken.value.next_slots == [
            HALF_PAST_TEN,
            NOW.replace(hour=11),
            NOW.replace(hour=11, minute=30),
        ]
        assert await stored(db, api_account) == [(TEN, "confirmed", 0)]

    async def test_another_accounts_listing_is_not_found(
        self, db: Database, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        with pytest.raises(ListingNotFound):
            await book(db, api_account, await listing(db, other_account))
        assert await stored(db, api_account) == []

    async def test_the_booked_slot_leaves_the_free_ones_and_a_cancel_returns_it(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        viewing = await book(db, api_account, property_id)
        assert await free(db, api_account, property_id) == [
            HALF_PAST_TEN,
            NOW.replace(hour=11),
            NOW.replace(hour=11, minute=30),
        ]
        async with db.session_scope() as session:
            await viewings.cancel(
                session, api_account.account_id, viewing.id, reason=CancelReason.CUSTOMER
            )
        assert (await free(db, api_account, property_id))[0] == TEN
        await book(db, api_account, property_id)
        assert sorted(await stored(db, api_account), key=lambda row: row[1]) == [
            (TEN, "cancelled", 0),
            (TEN, "confirmed", 0),
        ]


class TestTheDatabaseHoldsOneActiveBookingPerSlot:
    async def test_a_second_active_row_at_the_same_start_cannot_be_written(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        await book(db, api_account, property_id)

        def row(status: str) -> Viewing:
            return Viewing(
                account_id=api_account.account_id,
                property_id=property_id,
                starts_at=TEN,
                ends_at=HALF_PAST_TEN,
                status=status,
                customer_name="Bruno",
                booked_by="agent",
            )

        with pytest.raises(IntegrityError):
            async with db.session_scope() as session:
                session.add(row("requested"))
        # A cancelled or finished one does not hold the slot.
        async with db.session_scope() as session:
            session.add_all([row("cancelled"), row("done")])
        assert len(await stored(db, api_account)) == 3


Change = Callable[[Database, ApiAccount, uuid.UUID], Awaitable[Viewing]]


def change(name: str, *, now: datetime = NOW, **values: object) -> Change:
    async def apply(db: Database, account: ApiAccount, viewing_id: uuid.UUID) -> Viewing:
        operation = getattr(viewings, name)
        extra = {"now": now} if name in {"mark_done", "mark_no_show", "reschedule"} else {}
        async with db.session_scope() as session:
            result: Viewing = await operation(
                session, account.account_id, viewing_id, **extra, **values
            )
            return result

    return apply


STARTED = TEN + timedelta(minutes=5)
CONFIRM = change("confirm")
DECLINE = change("decline")
CANCEL = change("cancel", reason=CancelReason.AGENT)
MOVE = change("reschedule", starts_at=NOW.replace(hour=15), by=BookedBy.AI)
DONE = change("mark_done", now=STARTED)
NO_SHOW = change("mark_no_show", now=STARTED)


class TestTransitions:
    @pytest.mark.parametrize(
        ("policy", "operation", "status", "reason"),
        [
            ("approval", CONFIRM, "confirmed", None),
            ("approval", DECLINE, "cancelled", "declined"),
            ("approval", CANCEL, "cancelled", "agent"),
            ("on", CANCEL, "cancelled", "agent"),
            ("on", DONE, "done", None),
            ("on", NO_SHOW, "no_show", None),
        ],
        ids=["confirm", "decline", "cancel requested", "cancel confirmed", "done", "no-show"],
    )
    async def test_each_allowed_change(
        self,
        db: Database,
        api_account: ApiAccount,
        policy: str,
        operation: Change,
        status: str,
        reason: str | None,
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account, policy))
        changed = await operation(db, api_account, viewing.id)
        assert (changed.status, changed.cancel_reason) == (status, reason)
        assert await stored(db, api_account) == [(TEN, status, 0)]

    @pytest.mark.parametrize(
        ("policy", "operation"),
        [
            ("on", CONFIRM),
            ("on", DECLINE),
            ("approval", DONE),
            ("approval", NO_SHOW),
            ("on", change("mark_done", now=TEN - timedelta(minutes=1))),
            ("on", change("mark_no_show", now=NOW)),
        ],
        ids=[
            "confirm confirmed",
            "decline confirmed",
            "done requested",
            "no-show requested",
            "done before it starts",
            "no-show before it starts",
        ],
    )
    async def test_each_refused_change_is_a_conflict_and_changes_nothing(
        self, db: Database, api_account: ApiAccount, policy: str, operation: Change
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account, policy))
        before = await stored(db, api_account)
        with pytest.raises(TransitionRefused):
            await operation(db, api_account, viewing.id)
        assert await stored(db, api_account) == before

    @pytest.mark.parametrize(
        "operation",
        [CONFIRM, DECLINE, CANCEL, MOVE, DONE, NO_SHOW],
        ids=["confirm", "decline", "cancel", "reschedule", "done", "no-show"],
    )
    async def test_a_cancelled_viewing_takes_no_change(
        self, db: Database, api_account: ApiAccount, operation: Change
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account, "approval"))
        await CANCEL(db, api_account, viewing.id)
        with pytest.raises(TransitionRefused):
            await operation(db, api_account, viewing.id)
        assert await stored(db, api_account) == [(TEN, "cancelled", 0)]

    async def test_another_accounts_viewing_is_not_found(
        self, db: Database, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account))
        for operation in (CONFIRM, DECLINE, CANCEL, MOVE, DONE, NO_SHOW):
            with pytest.raises(DomainError) as refused:
                await operation(db, other_account, viewing.id)
            assert refused.value.kind == "not_found"
        assert await stored(db, api_account) == [(TEN, "confirmed", 0)]


class TestReschedule:
    async def test_a_customer_moves_to_a_free_slot_and_frees_the_old_one(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        viewing = await book(db, api_account, property_id)
        moved = await MOVE(db, api_account, viewing.id)
        assert (moved.starts_at, moved.ends_at, moved.sequence) == (
            NOW.replace(hour=15),
            NOW.replace(hour=15, minute=30),
            1,
        )
        assert (await free(db, api_account, property_id))[0] == TEN

    async def test_a_viewing_may_move_within_its_own_time(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account))
        agent = change("reschedule", starts_at=TEN + timedelta(minutes=10), by=BookedBy.AGENT)
        moved = await agent(db, api_account, viewing.id)
        assert (moved.starts_at, moved.sequence) == (TEN + timedelta(minutes=10), 1)

    async def test_to_a_taken_slot_is_refused_with_the_next_free_ones(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        await book(db, api_account, property_id)
        second = await book(db, api_account, property_id, HALF_PAST_TEN)
        for by in (BookedBy.AI, BookedBy.AGENT):
            with pytest.raises(SlotTaken) as taken:
                await change("reschedule", starts_at=TEN, by=by)(db, api_account, second.id)
            assert taken.value.next_slots[0] == NOW.replace(hour=11)
        assert await stored(db, api_account) == [
            (TEN, "confirmed", 0),
            (HALF_PAST_TEN, "confirmed", 0),
        ]

    async def test_a_customer_cannot_move_outside_the_slots_but_the_agent_can(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        viewing = await book(db, api_account, await listing(db, api_account))
        with pytest.raises(SlotNotOffered):
            await change("reschedule", starts_at=EVENING, by=BookedBy.AI)(
                db, api_account, viewing.id
            )
        assert await stored(db, api_account) == [(TEN, "confirmed", 0)]
        await change("reschedule", starts_at=EVENING, by=BookedBy.AGENT)(
            db, api_account, viewing.id
        )
        assert await stored(db, api_account) == [(EVENING, "confirmed", 1)]


class TestBookByAgent:
    async def book(
        self, db: Database, account: ApiAccount, property_id: uuid.UUID, starts_at: datetime
    ) -> Viewing:
        async with db.session_scope() as session:
            return await viewings.book_by_agent(
                session,
                account.account_id,
                property_id=property_id,
                starts_at=starts_at,
                customer_name="Carla",
                conversation_id=None,
                now=NOW,
            )

    async def test_any_future_time_of_any_listing_is_confirmed(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        for policy, starts_at in (("off", EVENING), ("approval", SUNDAY)):
            property_id = await listing(db, api_account, policy)
            viewing = await self.book(db, api_account, property_id, starts_at)
            assert (viewing.status, viewing.booked_by) == ("confirmed", "agent")

    async def test_never_over_an_active_viewing_nor_in_the_past(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        property_id = await listing(db, api_account)
        await book(db, api_account, property_id)
        with pytest.raises(SlotTaken):
            await self.book(db, api_account, property_id, TEN + timedelta(minutes=15))
        with pytest.raises(SlotNotOffered):
            await self.book(db, api_account, property_id, NOW - timedelta(hours=1))
        assert await stored(db, api_account) == [(TEN, "confirmed", 0)]


async def test_busy_lists_only_the_active_viewings_in_the_window(
    db: Database, api_account: ApiAccount
) -> None:
    property_id = await listing(db, api_account)
    kept = await book(db, api_account, property_id)
    dropped = await book(db, api_account, property_id, NOW.replace(hour=12))
    await CANCEL(db, api_account, dropped.id)
    async with db.session_scope() as session:
        found = await viewings.busy(session, api_account.account_id, NOW, NOW + timedelta(days=1))
        assert found == [(kept.starts_at, kept.ends_at)]
        assert await viewings.busy(session, api_account.account_id, EVENING, SUNDAY) == []
