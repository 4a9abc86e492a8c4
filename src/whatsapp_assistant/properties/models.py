"""A listing of the agent's: what the assistant may talk about, and nothing else
(docs/architecture.md, invariant 8)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin


class Property(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "properties"
    # A re-imported sheet updates its rows by reference; NULLs (no reference) never collide.
    __table_args__ = (UniqueConstraint("account_id", "reference"),)

    reference: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    listing_type: Mapped[str] = mapped_column(String(10), index=True)  # sale | rent
    property_type: Mapped[str] = mapped_column(String(40))
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    city: Mapped[str] = mapped_column(String(120), index=True)
    neighborhood: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(300))
    bedrooms: Mapped[int | None]
    bathrooms: Mapped[int | None]
    area_sqm: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    description: Mapped[str] = mapped_column(Text, default="")
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="available", index=True)
    url: Mapped[str | None] = mapped_column(String(500))
