"""Search criteria read from a customer message: budget, bedrooms, sale or rent, type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from whatsapp_assistant.ai import criteria


class TestParseBudget:
    @pytest.mark.parametrize(
        ("text", "max_price"),
        [
            ("up to €400k", 400000),
            ("under 400,000", 400000),
            ("até 400 mil euros", 400000),
            ("hasta 300.000 €", 300000),
            ("max 1500/month", 1500),
            ("2k", 2000),
            ("budget 1.2M", 1200000),
            ("no máximo 1,5 milhões", 1500000),
            ("até 1500 euros por mês", 1500),
        ],
    )
    def test_reads_the_ceiling(self, text: str, max_price: int) -> None:
        assert criteria.parse_budget(text).max_price == Decimal(max_price)

    def test_reads_a_floor(self) -> None:
        budget = criteria.parse_budget("from 300k")

        assert (budget.min_price, budget.max_price) == (Decimal(300000), None)

    def test_reads_a_range(self) -> None:
        budget = criteria.parse_budget("entre 300 mil e 450 mil euros")

        assert (budget.min_price, budget.max_price) == (Decimal(300000), Decimal(450000))

    @pytest.mark.parametrize("text", ["T2 in Graça", "2 quartos", "3 bedrooms", "80 m2 flat"])
    def test_typologies_bedrooms_and_areas_are_not_money(self, text: str) -> None:
        assert criteria.parse_budget(text) == criteria.Budget()

    def test_per_month_marks_a_rent_budget(self) -> None:
        budget = criteria.parse_budget("até 1500 euros por mês")

        assert budget.monthly
        assert criteria.listing_type_for_budget(budget) == "rent"

    @pytest.mark.parametrize(("text", "kind"), [("under 400k", "sale"), ("2k", "rent")])
    def test_the_size_of_a_budget_tells_sale_from_rent(self, text: str, kind: str) -> None:
        assert criteria.listing_type_for_budget(criteria.parse_budget(text)) == kind


class TestParseBedrooms:
    @pytest.mark.parametrize(
        ("text", "bedrooms"),
        [
            ("2-bedroom flat", 2),
            ("2 bed", 2),
            ("T2", 2),
            ("um T3 em Lisboa", 3),
            ("2 quartos", 2),
            ("dois quartos", 2),
            ("2 habitaciones", 2),
            ("tres dormitorios", 3),
            ("three bedrooms", 3),
        ],
    )
    def test_reads_the_count(self, text: str, bedrooms: int) -> None:
        assert criteria.parse_bedrooms(text) == bedrooms

    def test_no_count_is_none(self) -> None:
        assert criteria.parse_bedrooms("how many bedrooms?") is None


class TestParseListingType:
    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            ("I want to buy", "sale"),
            ("quero comprar", "sale"),
            ("à venda", "sale"),
            ("to rent", "rent"),
            ("para alugar", "rent"),
            ("arrendar um T1", "rent"),
            ("busco alquilar", "rent"),
            ("max 900/month", "rent"),
        ],
    )
    def test_reads_sale_or_rent(self, text: str, kind: str) -> None:
        assert criteria.parse_listing_type(text) == kind


class TestParsePropertyType:
    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            ("a flat", "apartment"),
            ("apartamento", "apartment"),
            ("un piso", "apartment"),
            ("a house", "house"),
            ("moradia T3", "house"),
            ("villa with pool", "villa"),
            ("a studio", "studio"),
        ],
    )
    def test_reads_the_type(self, text: str, kind: str) -> None:
        assert criteria.parse_property_type(text) == kind
