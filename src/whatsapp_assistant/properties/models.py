"""A listing of the agent's: what the assistant may talk about, and nothing else
(docs/architecture.md, invariant 8)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from whatsapp_assistant.db.base import Base, IdMixin, TenantMixin, TimestampMixin
from whatsapp_assistant.kit.text import fold

# The folded search columns, each with a trigram index on PostgreSQL and together in the FTS5
# trigram table `properties_search` on SQLite (migration 0014; docs/decisions.md, 6).
SEARCH_COLUMNS = ("place_text", "body_text", "reference_text")
# Whether customers may book a viewing of the listing: freely, only once the agent approves each
# one (a tenanted flat), or not at all.
VIEWING_POLICIES = ("on", "approval", "off")


def _trigram_index(column: str) -> Index:
    # PostgreSQL only: SQLite scans the folded columns (the env's include_object skips it there).
    index = Index(
        f"ix_properties_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info={"postgresql_only": True},
    )
    return index.ddl_if(dialect="postgresql")


class Property(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "properties"
    # A re-imported sheet updates its rows by reference; NULLs (no reference) never collide.
    # A page of search results is in price order: these read an account's listings in it, with
    # or without a status, so a page of a common word stops after a few hundred rows.
    __table_args__ = (
        UniqueConstraint("account_id", "reference"),
        *(_trigram_index(column) for column in SEARCH_COLUMNS),
        Index("ix_properties_account_price", "account_id", "price", "id"),
        Index("ix_properties_account_status_price", "account_id", "status", "price", "id"),
        CheckConstraint(
            "viewings IN (" + ", ".join(f"'{policy}'" for policy in VIEWING_POLICIES) + ")",
            name="viewings",
        ),
    )

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
    viewings: Mapped[str] = mapped_column(String(10), default="on", server_default="on")
    # In the order they are sent to a customer (docs/decisions.md, 29).
    photo_urls: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Derived, never written by hand: the accent- and case-folded text that search matches
    # (docs/decisions.md, 6), kept by the mapper events below on every insert and update.
    # Deferred: only SQL reads them, so a page of listings does not carry their text back.
    place_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    body_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    reference_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)


def search_texts(
    *,
    reference: str | None,
    title: str,
    city: str,
    neighborhood: str | None,
    address: str | None,
    description: str | None,
    features: list[str] | None,
) -> dict[str, str]:
    """The folded search columns of one listing (also used by bulk inserts and the backfill)."""
    places = " ".join(filter(None, [city, neighborhood, address]))
    return {
        "place_text": fold(places),
        "body_text": fold(" ".join([title, description or "", *(features or [])])),
        "reference_text": fold(reference or ""),
    }


def refresh_search_texts(prop: Property) -> None:
    values = search_texts(
        reference=prop.reference,
        title=prop.title,
        city=prop.city,
        neighborhood=prop.neighborhood,
        address=prop.address,
        description=prop.description,
        features=prop.features,
    )
    for name, value in values.items():
        setattr(prop, name, value)


@event.listens_for(Property, "before_insert")
@event.listens_for(Property, "before_update")
def _keep_search_texts(_mapper: Mapper[Property], _connection: Connection, prop: Property) -> None:
    refresh_search_texts(prop)
