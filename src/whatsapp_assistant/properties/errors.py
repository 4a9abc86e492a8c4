"""Property errors with stable codes."""

from __future__ import annotations

from whatsapp_assistant.errors import Conflict, Invalid, NotFound


class PropertyNotFound(NotFound):
    code = "property_not_found"


class ReferenceTaken(Conflict):
    """The account already has a listing with this reference: references identify listings."""

    code = "property_reference_taken"


class InvalidCsv(Invalid):
    """The uploaded file as a whole cannot be read as a listings CSV (row problems are reported)."""

    code = "invalid_csv"
