"""Listings service: the one search path, tenancy, and reference uniqueness."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import create_account, create_property
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.properties import service
from whatsapp_assistant.properties.errors import PropertyNotFound, ReferenceTaken
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import PropertyCreate, PropertyFilters, PropertyUpdate


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session_scope() as session:
        yield session


@pytest.fixture
async def account_id(session: AsyncSession) -> uuid.UUID:
    return (await create_account(session)).id


# A small Lisbon portfolio: two T2 for sale, a rental, a house, a sold flat (defaults: Graça).
PORTFOLIO: dict[str, dict[str, object]] = {
    "graca": {},
    "ourique": {
        "title": "Quiet T2 in Campo de Ourique",
        "price": Decimal(398000),
        "neighborhood": "Campo de Ourique",
        "bathrooms": 2,
        "description": "Calm flat near the market, with a balcony.",
        "features": ["lift", "balcony"],
    },
    "arroios": {
        "title": "Bright T1 in Arroios",
        "listing_type": "rent",
        "price": Decimal(1450),
        "neighborhood": "Arroios",
        "bedrooms": 1,
        "description": "Furnished flat near the metro.",
        "features": ["furnished"],
    },
    "sintra": {
        "title": "Family house with garden in Sintra",
        "property_type": "house",
        "price": Decimal(685000),
        "city": "Sintra",
        "neighborhood": None,
        "bedrooms": 4,
        "description": "Detached house with a fireplace.",
        "features": ["garden"],
    },
    "alfama": {
        "title": "T1 in Alfama with river view",
        "price": Decimal(289000),
        "neighborhood": "Alfama",
        "bedrooms": 1,
        "status": "sold",
    },
}


@pytest.fixture
async def listings(session: AsyncSession, account_id: uuid.UUID) -> dict[str, Property]:
    return {
        key: await create_property(session, account_id, **values)
        for key, values in PORTFOLIO.items()
    }


async def search(session: AsyncSession, account_id: uuid.UUID, **filters: object) -> list[str]:
    found: Sequence[Property] = await service.search_properties(
        session, account_id, PropertyFilters.model_validate({"limit": 100, **filters})
    )
    return [prop.title for prop in found]


def titles(listings: dict[str, Property], *keys: str) -> list[str]:
    return [listings[key].title for key in keys]


class TestSearchProperties:
    @pytest.mark.parametrize("location", ["graca", "GRAÇA", "Graça", "  graça "])
    async def test_location_ignores_accents_and_case(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        listings: dict[str, Property],
        location: str,
    ) -> None:
        assert await search(session, account_id, location=location) == titles(listings, "graca")

    async def test_location_matches_the_city_too(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        assert await search(session, account_id, location="sintra") == titles(listings, "sintra")

    async def test_listing_type_separates_sales_from_rentals(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        assert await search(session, account_id, listing_type="rent") == titles(listings, "arroios")
        assert await search(session, account_id, listing_type="sale") == titles(
            listings, "graca", "ourique", "sintra"
        )

    async def test_price_range_includes_its_bounds(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        found = await search(session, account_id, min_price=372000, max_price=398000)
        assert found == titles(listings, "graca", "ourique")

    async def test_min_bedrooms_leaves_out_smaller_homes(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        found = await search(session, account_id, min_bedrooms=2, listing_type="sale")
        assert found == titles(listings, "graca", "ourique", "sintra")
        assert await search(session, account_id, min_bedrooms=3) == titles(listings, "sintra")

    @pytest.mark.parametrize("word", ["flat", "Apartment", "apartamento"])
    async def test_property_type_synonyms_find_apartments(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        listings: dict[str, Property],
        word: str,
    ) -> None:
        found = await search(session, account_id, property_type=word)
        assert found == titles(listings, "arroios", "graca", "ourique")

    async def test_moradia_finds_the_house(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        assert await search(session, account_id, property_type="moradia") == titles(
            listings, "sintra"
        )

    async def test_only_available_listings_by_default(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        assert listings["alfama"].title not in await search(session, account_id)
        assert await search(session, account_id, status="sold") == titles(listings, "alfama")

    @pytest.mark.parametrize("status", ["any", None])
    async def test_status_any_lists_every_status(
        self,
        session: AsyncSession,
        account_id: uuid.UUID,
        listings: dict[str, Property],
        status: str | None,
    ) -> None:
        assert len(await search(session, account_id, status=status)) == len(listings)

    async def test_text_needs_every_word_ignoring_accents(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        assert await search(session, account_id, text="balcony LIFT") == titles(listings, "ourique")
        assert await search(session, account_id, text="terrace garden") == []

    async def test_another_accounts_listings_are_never_returned(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        other = await create_account(session, name="Other Agency")
        await create_property(session, other.id, title="Other agency's Graça flat")
        assert await search(session, account_id, location="graca") == titles(listings, "graca")
        assert await search(session, other.id) == ["Other agency's Graça flat"]

    async def test_limit_and_offset_page_through_matches_sorted_by_price(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        first = await search(session, account_id, limit=2)
        second = await search(session, account_id, limit=2, offset=2)
        assert first + second == titles(listings, "arroios", "graca", "ourique", "sintra")


class TestListProperties:
    async def test_total_counts_matches_beyond_the_page(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        page = await service.list_properties(
            session, account_id, PropertyFilters(listing_type="sale", limit=1, offset=1)
        )
        assert page.total == 3
        assert [item.title for item in page.items] == titles(listings, "ourique")


def new_listing(**values: object) -> PropertyCreate:
    defaults: dict[str, object] = {
        "title": "Sunny T2 in Graça with terrace",
        "listing_type": "sale",
        "property_type": "apartment",
        "price": "372000",
        "city": "Lisbon",
    }
    return PropertyCreate.model_validate(defaults | values)


class TestCreateProperty:
    async def test_property_type_synonym_is_stored_as_the_canonical_type(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        prop = await service.create_property(session, account_id, new_listing(property_type="Flat"))
        assert prop.property_type == "apartment"

    async def test_a_reference_names_one_listing_per_account(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        await service.create_property(session, account_id, new_listing(reference="CL-001"))
        with pytest.raises(ReferenceTaken) as raised:
            await service.create_property(session, account_id, new_listing(reference="CL-001"))
        assert raised.value.field == "reference"

    async def test_another_account_may_use_the_same_reference(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        other = await create_account(session, name="Other Agency")
        await service.create_property(session, account_id, new_listing(reference="CL-001"))
        prop = await service.create_property(session, other.id, new_listing(reference="CL-001"))
        assert prop.account_id == other.id


class TestUpdateProperty:
    async def test_only_the_fields_sent_change(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        prop = listings["graca"]
        await service.update_property(
            session, account_id, prop.id, PropertyUpdate(price=Decimal(365000))
        )
        assert (prop.price, prop.title, prop.bedrooms) == (
            Decimal(365000),
            listings["graca"].title,
            2,
        )

    async def test_another_accounts_listing_is_not_found_and_unchanged(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        other = await create_account(session, name="Other Agency")
        with pytest.raises(PropertyNotFound):
            await service.update_property(
                session, other.id, listings["graca"].id, PropertyUpdate(price=Decimal(1))
            )
        assert listings["graca"].price == Decimal(372000)

    async def test_taking_another_listings_reference_is_refused(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        listings["graca"].reference = "CL-001"
        await session.flush()
        with pytest.raises(ReferenceTaken):
            await service.update_property(
                session, account_id, listings["ourique"].id, PropertyUpdate(reference="CL-001")
            )
        same = await service.update_property(
            session, account_id, listings["graca"].id, PropertyUpdate(reference="CL-001")
        )
        assert same.reference == "CL-001"


class TestDeleteProperty:
    async def test_deleted_listing_is_gone(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        await service.delete_property(session, account_id, listings["graca"].id)
        assert await service.find_property(session, account_id, listings["graca"].id) is None

    async def test_another_accounts_listing_is_not_found_and_kept(
        self, session: AsyncSession, account_id: uuid.UUID, listings: dict[str, Property]
    ) -> None:
        other = await create_account(session, name="Other Agency")
        with pytest.raises(PropertyNotFound):
            await service.delete_property(session, other.id, listings["graca"].id)
        assert await service.find_property(session, account_id, listings["graca"].id) is not None
