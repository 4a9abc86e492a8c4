"""The search tool: argument checks, tenant scoping, and what the model is told."""

from __future__ import annotations

from decimal import Decimal

from tests.ai.conftest import CASCAIS, GRACA, OURIQUE, RIVAL, SOLD, Listings
from whatsapp_assistant.ai.tools import (
    MAX_RESULTS,
    TOOLS,
    is_no_match,
    parse_handoff,
    run_tool,
)
from whatsapp_assistant.properties.schemas import PropertyFilters


class TestRunTool:
    async def test_search_returns_the_accounts_matching_listings_as_text(
        self, listings: Listings
    ) -> None:
        outcome = await run_tool(listings.tools, "search_properties", {"location": "Graça"})

        assert not outcome.is_error
        assert GRACA in outcome.text
        assert "€372,000" in outcome.text

    async def test_several_places_find_listings_in_any_of_them(self, listings: Listings) -> None:
        outcome = await run_tool(
            listings.tools, "search_properties", {"location": ["Graça", "Campo de Ourique"]}
        )

        assert not outcome.is_error
        assert GRACA in outcome.text
        assert OURIQUE in outcome.text
        assert CASCAIS not in outcome.text

    async def test_nothing_found_in_several_places_names_them_all(self, listings: Listings) -> None:
        outcome = await run_tool(
            listings.tools, "search_properties", {"location": ["Faro", "Lagos"]}
        )

        assert is_no_match(outcome.text)
        assert "location=Faro or Lagos" in outcome.text

    async def test_unknown_argument_is_an_error_for_the_model_not_a_crash(
        self, listings: Listings
    ) -> None:
        outcome = await run_tool(listings.tools, "search_properties", {"status": "sold"})

        assert outcome.is_error
        assert "status" in outcome.text

    async def test_negative_price_is_an_error(self, listings: Listings) -> None:
        outcome = await run_tool(listings.tools, "search_properties", {"max_price": -5})

        assert outcome.is_error
        assert "max_price" in outcome.text

    async def test_wrong_type_is_an_error(self, listings: Listings) -> None:
        outcome = await run_tool(
            listings.tools, "search_properties", {"min_bedrooms": "many", "location": {"city": "x"}}
        )

        assert outcome.is_error
        assert "min_bedrooms" in outcome.text
        assert "location" in outcome.text

    async def test_min_price_above_max_price_is_an_error(self, listings: Listings) -> None:
        outcome = await run_tool(
            listings.tools, "search_properties", {"min_price": 500000, "max_price": 100}
        )

        assert outcome.is_error

    async def test_unknown_tool_is_an_error(self, listings: Listings) -> None:
        outcome = await run_tool(listings.tools, "delete_everything", {})

        assert outcome.is_error

    async def test_blank_strings_and_numbers_as_text_are_accepted(self, listings: Listings) -> None:
        outcome = await run_tool(
            listings.tools,
            "search_properties",
            {"location": "", "listing_type": "Sale", "max_price": "400000", "text": " "},
        )

        assert not outcome.is_error
        assert GRACA in outcome.text
        assert OURIQUE not in outcome.text  # €545,000 is over the budget

    async def test_nothing_found_says_so_with_the_criteria(self, listings: Listings) -> None:
        outcome = await run_tool(listings.tools, "search_properties", {"location": "Faro"})

        assert not outcome.is_error
        assert is_no_match(outcome.text)
        assert "location=Faro" in outcome.text


class TestAccountTools:
    async def test_only_available_listings_of_this_account_are_found(
        self, listings: Listings
    ) -> None:
        text = await listings.tools.search_properties(PropertyFilters(location="Graça"))

        assert GRACA in text
        assert SOLD not in text
        assert RIVAL not in text

    async def test_caller_cannot_widen_status_or_limit(self, listings: Listings) -> None:
        text = await listings.tools.search_properties(PropertyFilters(status=None, limit=50))

        assert SOLD not in text
        assert RIVAL not in text
        assert text.count("\n\n") == MAX_RESULTS - 1  # five listings, blank line between
        assert CASCAIS not in text  # ordered by price: the villa is the sixth

    async def test_budget_and_bedrooms_narrow_the_search(self, listings: Listings) -> None:
        text = await listings.tools.search_properties(
            PropertyFilters(max_price=Decimal(600000), min_bedrooms=3, listing_type="sale")
        )

        assert OURIQUE in text
        assert GRACA not in text


class TestParseHandoff:
    def test_known_reason_and_detail_are_kept(self) -> None:
        handoff = parse_handoff({"reason": "negotiation", "detail": " Offers 350k "})

        assert (handoff.reason, handoff.detail) == ("negotiation", "Offers 350k")

    def test_malformed_call_still_hands_over_as_other(self) -> None:
        handoff = parse_handoff({"reason": "bored", "detail": 42})

        assert (handoff.reason, handoff.detail) == ("other", "")


class TestToolSpecs:
    def test_search_parameters_are_all_optional_and_closed(self) -> None:
        search = next(spec for spec in TOOLS if spec.name == "search_properties")

        assert "required" not in search.parameters
        assert search.parameters["additionalProperties"] is False
        assert set(search.parameters["properties"]) == {  # type: ignore[call-overload]
            "location",
            "listing_type",
            "property_type",
            "min_price",
            "max_price",
            "min_bedrooms",
            "text",
        }
