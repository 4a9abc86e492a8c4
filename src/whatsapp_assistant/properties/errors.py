"""Property errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import NotFound


class PropertyNotFound(NotFound):
    code = "property_not_found"
