"""Listing shapes for the API, the importer and the AI's search tool."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from whatsapp_assistant.kit.storable import StorableInput

ListingType = Literal["sale", "rent"]
PropertyStatus = Literal["available", "under_offer", "sold", "rented"]
# properties/models.py, VIEWING_POLICIES: booked freely, each approved by the agent, or never.
ViewingPolicy = Literal["on", "approval", "off"]
# One Literal, not a union of two, so a bad value is reported against `status` alone.
StatusFilter = Literal["available", "under_offer", "sold", "rented", "any"]

Name = Annotated[str, Field(min_length=1, max_length=120)]
Place = Annotated[str, Field(min_length=1, max_length=120)]  # city, neighbourhood or address
MAX_PLACES = 8
Feature = Annotated[str, Field(min_length=1, max_length=100)]

_URL_COLUMN_LENGTH = 500
_CENTS = Decimal("0.01")


def _fits_url_column(url: HttpUrl) -> HttpUrl:
    if len(str(url)) > _URL_COLUMN_LENGTH:
        raise ValueError(f"URL should have at most {_URL_COLUMN_LENGTH} characters")
    return url


ListingUrl = Annotated[HttpUrl, AfterValidator(_fits_url_column)]

# A listing's photos, sent to customers in this order (docs/decisions.md, 29): http(s) only,
# as WhatsApp fetches them by URL.
MAX_PHOTOS = 10
MAX_PHOTO_URL_CHARS = 2000


def _fits_photo_url(url: HttpUrl) -> HttpUrl:
    if len(str(url)) > MAX_PHOTO_URL_CHARS:
        raise ValueError(f"URL should have at most {MAX_PHOTO_URL_CHARS} characters")
    return url


PhotoUrl = Annotated[HttpUrl, AfterValidator(_fits_photo_url)]


def places_list(value: object) -> object:
    """One place or several: a lone string (or None) is a list of one (or none), blanks dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [item for item in value if not (isinstance(item, str) and not item.strip())]
    return value


class _Input(StorableInput):
    """Strict input: stripped strings, unknown fields refused, only storable text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class PropertyBase(_Input):
    reference: str | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    listing_type: ListingType
    property_type: str = Field(min_length=1, max_length=40)
    price: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    city: Name
    neighborhood: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=300)
    bedrooms: int | None = Field(default=None, ge=0, le=100)
    bathrooms: int | None = Field(default=None, ge=0, le=100)
    area_sqm: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2)
    description: str = Field(default="", max_length=10_000)
    features: list[Feature] = Field(default_factory=list, max_length=50)
    status: PropertyStatus = "available"
    url: ListingUrl | None = None
    viewings: ViewingPolicy = "on"
    photo_urls: list[PhotoUrl] = Field(default_factory=list, max_length=MAX_PHOTOS)

    @field_validator("property_type")
    @classmethod
    def _lower_type(cls, value: str) -> str:
        return value.lower()


class PropertyCreate(PropertyBase):
    pass


class PropertyUpdate(_Input):
    """Partial update: only the fields sent change."""

    reference: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=300)
    listing_type: ListingType | None = None
    property_type: str | None = Field(default=None, min_length=1, max_length=40)
    price: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    city: Name | None = None
    neighborhood: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=300)
    bedrooms: int | None = Field(default=None, ge=0, le=100)
    bathrooms: int | None = Field(default=None, ge=0, le=100)
    area_sqm: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=2)
    description: str | None = Field(default=None, max_length=10_000)
    features: list[Feature] | None = Field(default=None, max_length=50)
    status: PropertyStatus | None = None
    url: ListingUrl | None = None
    viewings: ViewingPolicy | None = None
    # The whole list: sending fewer URLs removes the others, [] removes every photo.
    photo_urls: list[PhotoUrl] | None = Field(default=None, max_length=MAX_PHOTOS)

    # None means "leave out" for these columns, which are NOT NULL: an explicit null is a field
    # error, not a database error (docs/architecture.md, invariant 7). Validators only run on fields
    # that were sent.
    @field_validator(
        "title",
        "listing_type",
        "property_type",
        "price",
        "currency",
        "city",
        "description",
        "features",
        "status",
        "viewings",
        "photo_urls",
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class PropertyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str | None
    title: str
    listing_type: str
    property_type: str
    price: Decimal
    currency: str
    city: str
    neighborhood: str | None
    address: str | None
    bedrooms: int | None
    bathrooms: int | None
    area_sqm: Decimal | None
    description: str
    features: list[str]
    status: str
    url: str | None
    viewings: ViewingPolicy
    photo_urls: list[str]
    created_at: datetime
    updated_at: datetime

    @field_validator("price", "area_sqm")
    @classmethod
    def _cents(cls, value: Decimal | None) -> Decimal | None:
        # The columns keep two decimals: answer "372000.00" whether the value was just sent
        # or read back, so a created listing reads the same as its later GET.
        return None if value is None else value.quantize(_CENTS)


class PropertyFilters(_Input):
    """One search for the API, the pages and the AI tool alike."""

    # Several places are an OR: "in Graça or Campo de Ourique" matches a listing in either.
    location: list[Place] = Field(default_factory=list, max_length=MAX_PLACES)
    listing_type: ListingType | None = None
    property_type: str | None = Field(default=None, max_length=40)
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    min_bedrooms: int | None = Field(default=None, ge=0, le=100)
    text: str | None = Field(default=None, max_length=200)  # free words in title/description
    # Only what can be offered by default; "any" (or None) lists every status.
    status: StatusFilter | None = "available"
    limit: int = Field(default=5, ge=1, le=100)
    offset: int = Field(default=0, ge=0)

    @field_validator("location", mode="before")
    @classmethod
    def _places(cls, value: object) -> object:
        return places_list(value)


class PropertyListQuery(PropertyFilters):
    """The query string of GET /properties: the same filters, with a page size fit for a screen."""

    limit: int = Field(default=50, ge=1, le=100)


class PropertyPage(BaseModel):
    """One page of matches; `total` counts the matches before limit and offset, up to 1,000 (or
    the end of the page, when further): past that, `total_exact` is false and more than `total`
    listings match."""

    items: list[PropertyRead]
    total: int
    total_exact: bool = True


class RowError(BaseModel):
    """Why one CSV row was not imported; `row` is the spreadsheet row number (header = 1)."""

    row: int
    field: str | None
    message: str


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[RowError] = Field(default_factory=list)
    ignored_columns: list[str] = Field(default_factory=list)  # header names that match no field
