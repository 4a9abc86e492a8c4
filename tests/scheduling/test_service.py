"""find_free_slots reads the account's own stored schedule, or the defaults when it has none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.conftest import ApiAccount
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.scheduling import service as scheduling
from whatsapp_assistant.scheduling.schemas import AvailabilityData, ScheduleData, TimeRange

NOW = datetime(2027, 2, 1, 8, tzinfo=UTC)
SATURDAY = datetime(2027, 2, 6, tzinfo=UTC)
MONDAY = datetime(2027, 2, 8, tzinfo=UTC)


async def free(
    db: Database,
    account: ApiAccount,
    start: datetime,
    *,
    busy: tuple[tuple[datetime, datetime], ...] = (),
) -> list[datetime]:
    async with db.session_scope() as session:
        return await scheduling.find_free_slots(
            session,
            account.account_id,
            start=start,
            end=start + timedelta(days=1),
            now=NOW,
            busy=busy,
        )


class TestFindFreeSlots:
    async def test_a_new_account_offers_the_default_saturday(
        self, db: Database, api_account: ApiAccount
    ) -> None:
        found = await free(db, api_account, SATURDAY)
        assert (found[0], found[-1], len(found)) == (
            SATURDAY.replace(hour=10),
            SATURDAY.replace(hour=13, minute=30),
            8,
        )

    async def test_the_stored_zone_slots_buffer_and_dates_off_apply(
        self, db: Database, api_account: ApiAccount, other_account: ApiAccount
    ) -> None:
        async with db.session_scope() as session:
            await scheduling.replace_schedule(
                session,
                api_account.account_id,
                ScheduleData(
                    time_zone="Europe/Madrid",  # UTC+1 in February
                    business_hours=[],
                    viewing_minutes=60,
                    buffer_minutes=30,
                    notice_minutes=0,
                    horizon_days=60,
                ),
            )
            await scheduling.replace_availability(
                session,
                api_account.account_id,
                AvailabilityData(
                    weekly_slots=[TimeRange(weekday="mon", start="10:00", end="14:00")],
                    dates_off=[date(2027, 2, 15)],
                ),
            )
        booked = (MONDAY.replace(hour=11), MONDAY.replace(hour=12))  # 12:00-13:00 in Madrid
        found = await free(db, api_account, MONDAY, busy=(booked,))
        # 10:00 local (09:00 UTC) only: the buffer keeps 11:30 to 13:30 local free.
        assert found == [MONDAY.replace(hour=9)]
        assert await free(db, api_account, MONDAY + timedelta(days=7)) == []  # the date off
        assert await free(db, api_account, SATURDAY) == []  # no Saturday slots any more
        # The other account keeps the defaults.
        assert len(await free(db, other_account, SATURDAY)) == 8
