"""The photo tool the model may call: its spec, its arguments and its result texts.

Photos go only of a listing the conversation is about (one this draft's searches returned or
the assistant named before), so a listing id the model made up sends nothing; they leave after
the reply's text, as rows of the same guarded commit (docs/decisions.md, 29).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_assistant.ai.types import ToolSpec

SEND_LISTING_PHOTOS = "send_listing_photos"
MAX_PHOTOS_PER_CALL = 5
DEFAULT_PHOTOS = 3

NOT_ABOUT_IT = (
    "Photos are sent only of a listing this conversation is about: one search_properties "
    "returned (pass its id)."
)
NO_CONVERSATION = "Photos are sent only inside a customer's conversation."

PHOTOS_SPEC = ToolSpec(
    name=SEND_LISTING_PHOTOS,
    description=(
        "Send the customer photos of one listing, right after your reply. Use it when the "
        "customer asks to see a listing or its photos. Do not describe what the photos show: "
        "state only the listing's facts."
    ),
    parameters={
        "type": "object",
        "properties": {
            "property_id": {
                "type": "string",
                "description": "The listing's id, as search_properties shows it (id: ...).",
            },
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PHOTOS_PER_CALL,
                "description": f"How many of its first photos (default {DEFAULT_PHOTOS}).",
            },
        },
        "required": ["property_id"],
        "additionalProperties": False,
    },
)


class PhotosArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    property_id: uuid.UUID
    count: int = Field(default=DEFAULT_PHOTOS, ge=1, le=MAX_PHOTOS_PER_CALL)


@dataclass(frozen=True)
class ListingPhotos:
    """The photos one draft chose of one listing, in the listing's order."""

    property_id: uuid.UUID
    title: str
    urls: tuple[str, ...]


def photos_text(chosen: ListingPhotos) -> str:
    if not chosen.urls:
        return (
            f"{chosen.title} has no photos. If the customer asked for them, say so and offer "
            "that the agent sends some; do not describe any."
        )
    count = len(chosen.urls)
    return (
        f"{count} photo{'s' if count > 1 else ''} of {chosen.title} will be sent right after "
        "your reply; mention them briefly, without describing them."
    )
