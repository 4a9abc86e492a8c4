"""Account errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import Conflict, Unauthorized


class EmailTaken(Conflict):
    code = "email_taken"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"
