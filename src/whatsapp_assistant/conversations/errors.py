"""Conversation errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import NotFound


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
