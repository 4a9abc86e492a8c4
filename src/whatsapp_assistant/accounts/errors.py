"""Account errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import Conflict, Invalid, NotFound, Unauthorized


class EmailTaken(Conflict):
    code = "email_taken"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class InvalidCredentials(Unauthorized):
    """Wrong password and unknown email alike: the answer never tells which."""

    code = "invalid_credentials"


class UserNotFound(NotFound):
    code = "user_not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class InvalidPassword(Invalid):
    code = "invalid_password"
