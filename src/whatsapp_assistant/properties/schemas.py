"""Listing shapes for the API, the importer and the AI's search tool."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

ListingType = Literal["sale", "rent"]
PropertyStatus = Literal["available", "under_offer", "sold", "rented"]

Name = Annotated[str, Field(min_length=1, max_length=120)]


class PropertyBase(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

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
    features: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    status: PropertyStatus = "available"
    url: HttpUrl | None = None

    @field_validator("property_type")
    @classmethod
    def _lower_type(cls, value: str) -> str:
        return value.lower()


class PropertyCreate(PropertyBase):
    pass


class PropertyUpdate(BaseModel):
    """Partial update: only the fields sent change."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

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
    features: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=50
    )
    status: PropertyStatus | None = None
    url: HttpUrl | None = None


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
    created_at: datetime
    updated_at: datetime


class PropertyFilters(BaseModel):
    """One search for the API, the pages and the AI tool alike."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    location: str | None = Field(default=None, max_length=120)  # city, neighbourhood or address
    listing_type: ListingType | None = None
    property_type: str | None = Field(default=None, max_length=40)
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    min_bedrooms: int | None = Field(default=None, ge=0, le=100)
    text: str | None = Field(default=None, max_length=200)  # free words in title/description
    status: PropertyStatus | None = "available"
    limit: int = Field(default=5, ge=1, le=100)
    offset: int = Field(default=0, ge=0)
