"""CSV import of listings: validate each spreadsheet row, create it or update it by reference."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.kit.text import fold
from whatsapp_assistant.properties import service
from whatsapp_assistant.properties.errors import InvalidCsv
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.schemas import (
    ImportReport,
    PropertyCreate,
    PropertyUpdate,
    RowError,
)

__all__ = ["MAX_CSV_BYTES", "ImportReport", "RowError", "decode_csv", "import_csv", "parse_csv"]

MAX_CSV_BYTES = 5 * 1024 * 1024
COLUMNS = frozenset(PropertyCreate.model_fields)
_ALIASES = {"neighbourhood": "neighborhood", "area": "area_sqm", "ref": "reference"}
_ALIASES |= {"photos": "photo_urls"}
_DELIMITERS = (",", ";", "\t")
_MAX_AMOUNT_CHARS = 64
_FLUSH_EVERY = 200  # rows per INSERT batch: bounded memory, few round trips

Progress = Callable[[int, int], None]


@dataclass
class ParsedCsv:
    """The header understood, and each data row as {field: cell} with its spreadsheet row number."""

    columns: list[str]
    ignored_columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """Bytes of an uploaded file as text: UTF-8 (with or without BOM), else Windows-1252."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidCsv(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    if b"\x00" in data:
        raise InvalidCsv("the file is not CSV text (it contains binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Excel on Windows saves "CSV" in the ANSI code page; cp1252 covers the Portuguese letters.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InvalidCsv("the file is not CSV text (unknown character encoding)") from exc


def _sniff_delimiter(header_line: str) -> str:
    # The header names contain no delimiters, so counting them there is exact; csv.Sniffer
    # guesses from whole rows and is misled by prices such as "372,000".
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _column_name(raw: str) -> str:
    name = re.sub(r"[\s\-]+", "_", fold(raw.strip().strip('"')))
    return _ALIASES.get(name, name)


def _records(text: str) -> Iterator[list[str]]:
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(header_line))
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidCsv(f"the file is not valid CSV near line {reader.line_num}: {exc}") from exc


def _check_text(text: str) -> None:
    if len(text) > MAX_CSV_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
        raise InvalidCsv(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    if "\x00" in text:
        raise InvalidCsv("the file is not CSV text (it contains binary data)")


def _read_header(cells: list[str]) -> tuple[list[str], list[str]]:
    names = [_column_name(cell) for cell in cells]
    if "title" not in names:
        raise InvalidCsv(
            "the first row must be a header naming the columns, with at least 'title'; "
            f"known columns: {', '.join(sorted(COLUMNS))}",
            field="title",
        )
    known = [name for name in names if name in COLUMNS]
    if len(set(known)) != len(known):
        twice = sorted({name for name in known if known.count(name) > 1})
        raise InvalidCsv(f"column {twice[0]!r} appears twice in the header", field=twice[0])
    ignored = [cell.strip() for cell, name in zip(cells, names, strict=True) if name not in COLUMNS]
    return names, [name for name in ignored if name]


def parse_csv(text: str) -> ParsedCsv:
    """Split a CSV text into header and rows; raises InvalidCsv only for the file as a whole."""
    _check_text(text)
    records = _records(text.removeprefix("\ufeff"))
    row_number = 0
    header: list[str] | None = None
    parsed = ParsedCsv(columns=[], ignored_columns=[])
    for cells in records:
        row_number += 1  # spreadsheet numbering: the header is row 1, blank rows count too
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header, parsed.ignored_columns = _read_header(cells)
            parsed.columns = [name for name in header if name in COLUMNS]
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            message = (
                f"the row has {len(cells)} cells but the header has {len(header)} "
                "(a value with the delimiter in it must be in double quotes)"
            )
            parsed.errors.append(RowError(row=row_number, field=None, message=message))
            continue
        named = zip(header, cells, strict=False)
        parsed.rows.append((row_number, {n: c.strip() for n, c in named if n in COLUMNS}))
    if header is None:
        raise InvalidCsv("the file is empty: expected a header row with at least 'title'")
    return parsed


# ---- cells -------------------------------------------------------------------------------------

_PRICE_MARKS: dict[str, str | None] = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "us$": "USD",
    "$": "USD",
    "usd": "USD",
    "r$": "BRL",
    "brl": "BRL",
    "/month": None,
    "/mo": None,
    "per month": None,
    "/mês": None,
    "/mes": None,
}
_AREA_MARKS: dict[str, str | None] = {"m²": None, "m2": None, "sqm": None, "sq m": None}
# Greedy, unambiguous groups: matching stays linear however long the cell is.
_AMOUNT = re.compile(r"^(?P<pre>\D*)(?P<num>\d(?:[\d.,'’\s\u00a0\u202f]*\d)?)(?P<post>.*)$")


def _marks_pattern(marks: dict[str, str | None]) -> re.Pattern[str]:
    alternatives = sorted(marks, key=len, reverse=True)  # "r$" before "$", "euros" before "eur"
    return re.compile("|".join(re.escape(mark) for mark in alternatives), re.IGNORECASE)


_PRICE_MARKS_RE = _marks_pattern(_PRICE_MARKS)
_AREA_MARKS_RE = _marks_pattern(_AREA_MARKS)


def _ungroup(digits: str, separator: str) -> str | None:
    groups = digits.split(separator)
    if any(len(group) != 3 for group in groups[1:]) or not groups[0]:
        return None
    return "".join(groups)


def _plain_number(num: str) -> str | None:
    """'372,000', '372 000', '1.450.000,50', '74,5' as '372000' or '74.5'; None if unclear."""
    digits = re.sub(r"[\s\u00a0\u202f'’]", "", num)
    commas, dots = "," in digits, "." in digits
    if commas and dots:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        whole, _, fraction = digits.rpartition(decimal)
        whole_digits = _ungroup(whole, "." if decimal == "," else ",")
        return None if whole_digits is None else f"{whole_digits}.{fraction}"
    if commas or dots:
        separator = "," if commas else "."
        groups = digits.split(separator)
        # One separator followed by exactly three digits is a thousands group ("1.450" is
        # €1,450, the way listing prices are written); otherwise it marks decimals.
        if len(groups) == 2 and len(groups[1]) != 3:
            return f"{groups[0]}.{groups[1]}"
        return _ungroup(digits, separator)
    return digits


def parse_amount(raw: str, *, area: bool = False) -> tuple[Decimal, str | None] | None:
    """A price (or, with `area`, a surface) cell as (number, currency code or None).

    None when the cell is not a plain amount, so the schema reports it against its column.
    """
    match = _AMOUNT.match(raw.strip()) if len(raw) <= _MAX_AMOUNT_CHARS else None
    if match is None:
        return None
    marks, pattern = (_AREA_MARKS, _AREA_MARKS_RE) if area else (_PRICE_MARKS, _PRICE_MARKS_RE)
    affixes = f"{match['pre']} {match['post']}"
    if pattern.sub("", affixes).strip():
        return None
    currencies = {marks[mark.lower()] for mark in pattern.findall(affixes)} - {None}
    number = _plain_number(match["num"])
    if number is None or len(currencies) > 1:
        return None
    try:
        return Decimal(number), currencies.pop() if currencies else None
    except InvalidOperation:
        return None


_LISTING_TYPES = {"for sale": "sale", "venda": "sale", "buy": "sale", "for rent": "rent"}
_LISTING_TYPES |= {"rental": "rent", "let": "rent", "arrendamento": "rent", "aluguer": "rent"}


def _row_values(cells: dict[str, str]) -> dict[str, object]:
    """Cells as PropertyCreate input: empty cells left out so the schema's defaults apply."""
    values: dict[str, object] = {name: cell for name, cell in cells.items() if cell}
    if "currency" in values:
        values["currency"] = cells["currency"].upper()
    if "price" in values:
        amount = parse_amount(cells["price"])
        if amount is not None:
            values["price"] = amount[0]
            # A sign in the cell ("£450,000") names the currency when no column does.
            if amount[1] is not None:
                values.setdefault("currency", amount[1])
    if "area_sqm" in values:
        area = parse_amount(cells["area_sqm"], area=True)
        if area is not None:
            values["area_sqm"] = area[0]
    if "listing_type" in values:
        kind = cells["listing_type"].lower()
        values["listing_type"] = _LISTING_TYPES.get(kind, kind)
    if "status" in values:
        values["status"] = re.sub(r"[\s\-]+", "_", cells["status"].lower())
    if "viewings" in values:
        values["viewings"] = cells["viewings"].strip().lower()
    if "features" in values:
        values["features"] = [f.strip() for f in re.split(r"[;|]", cells["features"]) if f.strip()]
    if "photo_urls" in values:
        # A URL holds neither a space nor a bar: a cell lists them separated by either.
        values["photo_urls"] = [url for url in re.split(r"[\s|]+", cells["photo_urls"]) if url]
    return values


def validate_row(row: int, cells: dict[str, str]) -> PropertyCreate | list[RowError]:
    """One row as a listing, or the reasons it is not one (each naming its column)."""
    try:
        return PropertyCreate.model_validate(_row_values(cells))
    except ValidationError as exc:
        return [
            RowError(row=row, field=str(err["loc"][0]) if err["loc"] else None, message=err["msg"])
            for err in exc.errors()
        ]


# ---- import ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """The state of one import: what the account holds by reference, and what happened."""

    session: AsyncSession
    account_id: uuid.UUID
    columns: set[str]
    existing: dict[str, Property]
    report: ImportReport
    seen: dict[str, int] = field(default_factory=dict)

    def apply(self, row: int, listing: PropertyCreate) -> None:
        reference = listing.reference
        if reference is not None and reference in self.seen:
            message = f"reference {reference!r} is already used on row {self.seen[reference]}"
            self.fail([RowError(row=row, field="reference", message=message)])
            return
        if reference is not None:
            self.seen[reference] = row
        current = self.existing.get(reference) if reference is not None else None
        if current is None:
            self.session.add(service.build_property(self.account_id, listing))
            self.report.created += 1
            return
        # Only the file's columns change: a sheet without a `url` column keeps the stored URLs.
        changes = listing.model_dump(include=self.columns)
        service.apply_update(current, PropertyUpdate.model_validate(changes))
        self.report.updated += 1

    def fail(self, errors: list[RowError]) -> None:
        self.report.failed += 1
        self.report.errors.extend(errors)


async def import_csv(
    session: AsyncSession,
    account_id: uuid.UUID,
    text: str,
    *,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import every valid row; report the others. A row whose `reference` the account already
    has updates that listing, so importing the same file twice changes nothing the second time.
    Raises InvalidCsv when the file as a whole is unusable; never commits (the caller's scope does).
    """
    parsed = parse_csv(text)
    run = _Run(
        session=session,
        account_id=account_id,
        columns=set(parsed.columns),
        existing=await service.properties_by_reference(session, account_id),
        report=ImportReport(ignored_columns=parsed.ignored_columns),
    )
    for error in parsed.errors:
        run.fail([error])
    total = len(parsed.rows)
    if on_progress is not None:
        on_progress(0, total)
    for done, (row, cells) in enumerate(parsed.rows, start=1):
        outcome = validate_row(row, cells)
        if isinstance(outcome, PropertyCreate):
            run.apply(row, outcome)
        else:
            run.fail(outcome)
        if done % _FLUSH_EVERY == 0:
            await session.flush()
        if on_progress is not None:
            on_progress(done, total)
    await session.flush()
    run.report.errors.sort(key=lambda error: error.row)
    return run.report
