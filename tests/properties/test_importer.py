"""CSV import: tolerant reading, per-row validation with row numbers, idempotent re-import."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import create_account, create_property
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.properties.errors import InvalidCsv
from whatsapp_assistant.properties.importer import (
    MAX_CSV_BYTES,
    decode_csv,
    import_csv,
    parse_amount,
    parse_csv,
)
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.samples import sample_listings_path, sample_listings_text

HEADER = "reference,title,listing_type,property_type,price,city,neighborhood,bedrooms,features"
GRACA = 'CL-001,Sunny T2 in Graça with terrace,sale,apartment,372000,Lisbon,Graça,2,"terrace;lift"'
OURIQUE = "CL-002,Quiet T2 in Campo de Ourique,sale,flat,398000,Lisbon,Campo de Ourique,2,"


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.session_scope() as session:
        yield session


@pytest.fixture
async def account_id(session: AsyncSession) -> uuid.UUID:
    return (await create_account(session)).id


async def stored(session: AsyncSession, account_id: uuid.UUID) -> list[Property]:
    stmt = for_account(select(Property), Property, account_id).order_by(Property.price)
    return list((await session.execute(stmt)).scalars())


class TestImportCsv:
    async def test_valid_file_creates_every_listing(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        report = await import_csv(session, account_id, csv_text(HEADER, GRACA, OURIQUE))
        assert (report.created, report.updated, report.failed, report.errors) == (2, 0, 0, [])
        graca, ourique = await stored(session, account_id)
        assert (graca.title, graca.price, graca.currency) == (
            "Sunny T2 in Graça with terrace",
            Decimal(372000),
            "EUR",
        )
        assert graca.features == ["terrace", "lift"]
        assert (ourique.property_type, ourique.features, ourique.status) == (
            "apartment",
            [],
            "available",
        )

    async def test_invalid_rows_are_reported_and_valid_rows_imported(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            HEADER,
            GRACA,
            "CL-003,No price,sale,apartment,,Lisbon,Alvalade,3,",
            OURIQUE,
            "CL-004,Bad type,swap,apartment,-5,Lisbon,,two,",
        )
        report = await import_csv(session, account_id, text)
        assert (report.created, report.failed) == (2, 2)
        assert [(e.row, e.field) for e in report.errors] == [
            (3, "price"),
            (5, "listing_type"),
            (5, "price"),
            (5, "bedrooms"),
        ]
        assert [p.reference for p in await stored(session, account_id)] == ["CL-001", "CL-002"]

    async def test_row_numbers_count_the_header_and_blank_rows_like_a_spreadsheet(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(HEADER, "", GRACA, ",,,,,,,,", "CL-9,,sale,apartment,1,Lisbon,,,")
        report = await import_csv(session, account_id, text)
        assert [(e.row, e.field) for e in report.errors] == [(5, "title")]

    async def test_byte_order_mark_and_cell_padding_are_ignored(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = "\ufeff" + csv_text(
            " Title , Listing Type ,property_type, price ,city",
            " T1 , sale ,flat, 250000 , Lisbon ",
        )
        report = await import_csv(session, account_id, text)
        assert (report.created, report.errors) == (1, [])
        [prop] = await stored(session, account_id)
        assert (prop.title, prop.listing_type, prop.city) == ("T1", "sale", "Lisbon")

    async def test_semicolon_delimited_file_with_comma_decimals(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            "title;listing_type;property_type;price;city;area_sqm;features",
            'T2 em Graça;venda;apartamento;372.000 €;Lisboa;74,5;"terraço|elevador"',
        )
        report = await import_csv(session, account_id, text)
        assert report.errors == []
        [prop] = await stored(session, account_id)
        assert (prop.listing_type, prop.property_type) == ("sale", "apartment")
        assert (prop.price, prop.area_sqm, prop.features) == (
            Decimal(372000),
            Decimal("74.5"),
            ["terraço", "elevador"],
        )

    @pytest.mark.parametrize(
        "price", ["372000", '"372,000"', "372 000", '"€372,000"', "€ 372.000", "372000.00"]
    )
    async def test_price_formats_of_spreadsheets_are_understood(
        self, session: AsyncSession, account_id: uuid.UUID, price: str
    ) -> None:
        text = csv_text(
            "title,listing_type,property_type,price,city", f"T2,sale,flat,{price},Lisbon"
        )
        report = await import_csv(session, account_id, text)
        assert report.errors == []
        [prop] = await stored(session, account_id)
        assert prop.price == Decimal(372000)

    async def test_currency_symbol_sets_the_currency_when_no_column_does(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            "title,listing_type,property_type,price,city", 'Flat,sale,flat,"£450,000",London'
        )
        await import_csv(session, account_id, text)
        [prop] = await stored(session, account_id)
        assert prop.currency == "GBP"

    async def test_reimport_with_references_updates_instead_of_duplicating(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        await import_csv(session, account_id, csv_text(HEADER, GRACA, OURIQUE))
        cheaper = GRACA.replace("372000", "365000")
        report = await import_csv(session, account_id, csv_text(HEADER, cheaper, OURIQUE))
        assert (report.created, report.updated, report.failed) == (0, 2, 0)
        graca, ourique = await stored(session, account_id)
        assert (graca.reference, graca.price) == ("CL-001", Decimal(365000))
        assert ourique.reference == "CL-002"

    async def test_update_keeps_fields_whose_column_is_absent(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        await create_property(session, account_id, reference="CL-001", url="https://x.example/1")
        text = csv_text(
            "reference,title,listing_type,property_type,price,city", "CL-001,T2,sale,flat,1,Lisbon"
        )
        await import_csv(session, account_id, text)
        [prop] = await stored(session, account_id)
        assert (prop.title, prop.url, prop.neighborhood) == ("T2", "https://x.example/1", "Graça")

    async def test_rows_without_reference_are_always_created(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text("title,listing_type,property_type,price,city", "T2,sale,flat,1,Lisbon")
        await import_csv(session, account_id, text)
        await import_csv(session, account_id, text)
        assert len(await stored(session, account_id)) == 2

    async def test_a_reference_used_twice_in_one_file_is_reported_on_the_second_row(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        report = await import_csv(session, account_id, csv_text(HEADER, GRACA, GRACA))
        assert (report.created, report.failed) == (1, 1)
        [error] = report.errors
        assert (error.row, error.field) == (3, "reference")
        assert "row 2" in error.message

    async def test_another_accounts_reference_is_not_touched(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        other = await create_account(session, name="Other Agency")
        theirs = await create_property(session, other.id, reference="CL-001", price=Decimal(1))
        report = await import_csv(session, account_id, csv_text(HEADER, GRACA))
        assert report.created == 1
        assert theirs.price == Decimal(1)

    async def test_unknown_columns_are_named_in_the_report(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            "title,listing_type,property_type,price,city,Preço m2", "T2,sale,flat,1,Lisbon,9"
        )
        report = await import_csv(session, account_id, text)
        assert (report.created, report.ignored_columns) == (1, ["Preço m2"])

    async def test_a_row_with_more_cells_than_the_header_is_reported(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            "title,listing_type,property_type,price,city", "T2,sale,flat,372,000,Lisbon"
        )
        report = await import_csv(session, account_id, text)
        assert report.failed == 1
        assert report.errors[0].row == 2
        assert "double quotes" in report.errors[0].message

    async def test_progress_counts_every_data_row(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        calls: list[tuple[int, int]] = []
        await import_csv(
            session,
            account_id,
            csv_text(HEADER, GRACA, OURIQUE),
            on_progress=lambda d, t: calls.append((d, t)),
        )
        assert calls == [(0, 2), (1, 2), (2, 2)]

    @pytest.mark.parametrize(
        "text",
        ["", "\n\n", "reference,price,city\nCL-1,1,Lisbon\n", "name;price\nx;1\n"],
    )
    async def test_a_file_without_title_header_is_refused_and_changes_nothing(
        self, session: AsyncSession, account_id: uuid.UUID, text: str
    ) -> None:
        with pytest.raises(InvalidCsv) as raised:
            await import_csv(session, account_id, text)
        assert raised.value.code == "invalid_csv"
        assert await stored(session, account_id) == []

    async def test_a_header_naming_a_field_twice_is_refused(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        with pytest.raises(InvalidCsv, match="price"):
            await import_csv(session, account_id, "title,price,Price\n")

    async def test_the_sample_listings_import_without_errors(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        report = await import_csv(session, account_id, sample_listings_text())
        assert (report.created, report.failed, report.errors, report.ignored_columns) == (
            12,
            0,
            [],
            [],
        )
        titles = {prop.title: prop for prop in await stored(session, account_id)}
        graca = titles["Sunny T2 in Graça with terrace"]
        assert (graca.price, graca.bedrooms, graca.bathrooms, graca.area_sqm) == (
            Decimal(372000),
            2,
            1,
            Decimal(74),
        )
        ourique = titles["Quiet T2 in Campo de Ourique"]
        assert (ourique.price, ourique.bathrooms, ourique.area_sqm) == (
            Decimal(398000),
            2,
            Decimal(88),
        )
        statuses = sorted(prop.status for prop in titles.values() if prop.status != "available")
        assert statuses == ["sold", "under_offer"]


class TestSampleListingsPath:
    def test_points_at_the_packaged_csv(self) -> None:
        path = sample_listings_path()
        assert path.name == "sample_listings.csv"
        assert path.read_text(encoding="utf-8") == sample_listings_text()


class TestDecodeCsv:
    def test_utf8_with_bom_loses_the_bom(self) -> None:
        assert decode_csv("\ufefftitle\nGraça\n".encode()) == "title\nGraça\n"

    def test_windows_1252_from_excel_is_understood(self) -> None:
        assert decode_csv("title\nGraça\n".encode("cp1252")) == "title\nGraça\n"

    def test_binary_data_is_refused(self) -> None:
        with pytest.raises(InvalidCsv, match="not CSV text"):
            decode_csv(b"PK\x03\x04\x00\x00")

    def test_more_than_5_mb_is_refused(self) -> None:
        with pytest.raises(InvalidCsv, match="5 MB"):
            decode_csv(b"a" * (MAX_CSV_BYTES + 1))


class TestParseAmount:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("372000", (Decimal(372000), None)),
            ("372,000", (Decimal(372000), None)),
            ("372 000", (Decimal(372000), None)),
            ("€372,000", (Decimal(372000), "EUR")),
            ("1.450.000,50 €", (Decimal("1450000.50"), "EUR")),
            ("€1.450/month", (Decimal(1450), "EUR")),
            ("1450.5", (Decimal("1450.5"), None)),
            ("R$ 900.000", (Decimal(900000), "BRL")),
        ],
    )
    def test_prices_as_people_write_them(
        self, raw: str, expected: tuple[Decimal, str | None]
    ) -> None:
        assert parse_amount(raw) == expected

    @pytest.mark.parametrize("raw", ["abc", "-5", "1,2,3", "12 rooms", "€5 $5", "74 m²"])
    def test_anything_else_is_left_to_the_schema(self, raw: str) -> None:
        assert parse_amount(raw) is None

    def test_areas_may_carry_their_unit(self) -> None:
        assert parse_amount("74,5 m²", area=True) == (Decimal("74.5"), None)


cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
header_names = st.lists(
    st.sampled_from(
        [
            "title",
            "price",
            "listing_type",
            "property_type",
            "city",
            "reference",
            "features",
            "status",
            "url",
            "bedrooms",
            "area_sqm",
            "currency",
            "other",
        ]
    ),
    min_size=1,
    max_size=8,
    unique=True,
)


@st.composite
def listing_files(draw: st.DrawFn) -> str:
    """Files that get past the header often, so rows reach validation and the database."""
    names = draw(header_names)
    delimiter = draw(st.sampled_from([",", ";"]))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(names) + 1), max_size=4))
    quote = lambda cell: '"' + cell.replace('"', '""') + '"'  # noqa: E731 - a one-line helper
    lines = [delimiter.join(names)] + [delimiter.join(map(quote, row)) for row in rows]
    return "\n".join(lines)


class TestImportCsvProperties:
    @given(text=st.text())
    def test_arbitrary_text_only_ever_raises_invalid_csv(self, text: str) -> None:
        try:
            parsed = parse_csv(text)
        except InvalidCsv:
            return
        assert all(row >= 2 for row, _ in parsed.rows)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(text=st.one_of(listing_files(), st.text(max_size=200)))
    async def test_any_file_is_imported_or_refused_with_a_count_for_every_row(
        self, db: Database, text: str
    ) -> None:
        async with db.sessionmaker() as session:
            account = await create_account(session)
            try:
                report = await import_csv(session, account.id, text)
            except InvalidCsv:
                return
            finally:
                await session.rollback()
        data_rows = len(parse_csv(text).rows) + len(parse_csv(text).errors)
        assert report.created + report.updated + report.failed == data_rows


class TestPhotoColumn:
    async def test_photo_urls_split_on_bars_and_spaces_in_their_order(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        photos = (
            "https://casalusa.example/a.jpg | https://casalusa.example/b.jpg http://c.example/c.png"
        )
        text = csv_text(
            "title,listing_type,property_type,price,city,photos", f"T2,sale,flat,1,Lisbon,{photos}"
        )
        report = await import_csv(session, account_id, text)
        assert (report.created, report.failed) == (1, 0)
        (listing,) = await stored(session, account_id)
        assert listing.photo_urls == [
            "https://casalusa.example/a.jpg",
            "https://casalusa.example/b.jpg",
            "http://c.example/c.png",
        ]

    async def test_a_bad_photo_url_is_a_row_error_and_the_row_is_not_imported(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> None:
        text = csv_text(
            "title,listing_type,property_type,price,city,photo_urls",
            "T2,sale,flat,1,Lisbon,https://casalusa.example/a.jpg|javascript:alert(1)",
            "T3,sale,flat,2,Lisbon,",
        )
        report = await import_csv(session, account_id, text)
        assert (report.created, report.failed) == (1, 1)
        assert [(error.row, error.field) for error in report.errors] == [(2, "photo_urls")]
        (listing,) = await stored(session, account_id)
        assert (listing.title, listing.photo_urls) == ("T3", [])
