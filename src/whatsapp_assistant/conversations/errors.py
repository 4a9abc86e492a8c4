"""Conversation errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import Conflict, Invalid, NotFound


class ConversationNotFound(NotFound):
    code = "conversation_not_found"


class MessageNotFound(NotFound):
    code = "message_not_found"


class ScheduledNotFound(NotFound):
    code = "scheduled_not_found"


class ScheduledNotPending(Conflict):
    """Sent, cancelled or skipped already: nothing left to cancel."""

    code = "scheduled_not_pending"


class OnlyRemindersKept(Conflict):
    """Only a reminder can go on in human mode: what else is automated stops there."""

    code = "only_reminders_kept"


class ClockFixed(Conflict):
    """The clock moves only in a demo (DEMO_CLOCK)."""

    code = "clock_fixed"


class DueInThePast(Invalid):
    code = "due_in_the_past"
