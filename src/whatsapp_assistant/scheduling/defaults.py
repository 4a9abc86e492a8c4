"""What an account's schedule is until the agent changes it: one place, read wherever no row is.

A new account can book viewings from its first day without a row of its own, and so can every
account that existed before schedules did; the first change stores these values with it.
"""

from __future__ import annotations

from whatsapp_assistant.scheduling.slots import Rules, WeeklyRange

DEFAULT_RULES = Rules(
    time_zone="Europe/Lisbon",
    viewing_minutes=30,
    buffer_minutes=0,
    notice_minutes=120,
    horizon_days=14,
)

# Monday to Friday 09:00–19:00, Saturday 10:00–14:00: the viewing slots and the business hours.
DEFAULT_WEEK: tuple[WeeklyRange, ...] = (
    *(WeeklyRange(weekday, 9 * 60, 19 * 60) for weekday in range(5)),
    WeeklyRange(5, 10 * 60, 14 * 60),
)
