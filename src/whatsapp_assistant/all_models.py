"""Imports every models module so the mappers and Alembic see all tables."""

from whatsapp_assistant.accounts.calendar_feeds import CalendarFeed
from whatsapp_assistant.accounts.models import Account, ApiKey, Persona, User, UserSession
from whatsapp_assistant.channels.models import Channel, WebhookEvent
from whatsapp_assistant.conversations.models import (
    Contact,
    Conversation,
    ConversationEvent,
    Message,
)
from whatsapp_assistant.conversations.scheduled.models import FollowupSettings, ScheduledMessage
from whatsapp_assistant.db.base import Base
from whatsapp_assistant.escalation.models import Escalation
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling.models import DateOff, Schedule, Viewing, WeeklyHours

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "CalendarFeed",
    "Channel",
    "Contact",
    "Conversation",
    "ConversationEvent",
    "DateOff",
    "Escalation",
    "FollowupSettings",
    "Message",
    "Persona",
    "Property",
    "Schedule",
    "ScheduledMessage",
    "User",
    "UserSession",
    "Viewing",
    "WebhookEvent",
    "WeeklyHours",
]
