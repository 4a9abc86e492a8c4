"""The listings pages: the list and its search, add and edit forms, status, delete, CSV import."""

from __future__ import annotations

import math
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from whatsapp_assistant.errors import Invalid
from whatsapp_assistant.properties import importer
from whatsapp_assistant.properties import service as properties
from whatsapp_assistant.properties.errors import InvalidCsv, ReferenceTaken
from whatsapp_assistant.properties.formatting import format_price
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.properties.photos import PhotoRefused, photo_url, store_photo
from whatsapp_assistant.properties.samples import sample_listings_path
from whatsapp_assistant.properties.schemas import (
    MAX_PHOTOS,
    ImportReport,
    PropertyCreate,
    PropertyListQuery,
    PropertyRead,
    PropertyUpdate,
)
from whatsapp_assistant.web.auth import CurrentUser
from whatsapp_assistant.web.deps import SessionDep, UserDep
from whatsapp_assistant.web.pages.forms import (
    CHOOSE_ONE,
    REQUIRED,
    field_errors,
    schema_words,
    text_fields,
)
from whatsapp_assistant.web.pages.render import page, redirect

router = APIRouter()

PAGE_SIZE = 20
MAX_QUERY = 200
STATUSES = {
    "available": "Available",
    "under_offer": "Under offer",
    "sold": "Sold",
    "rented": "Rented",
}
STATUS_FILTERS = [*STATUSES.items(), ("any", "All")]
LISTING_TYPES = [("sale", "For sale"), ("rent", "For rent")]
# The typed fields of the add and edit forms; status changes through its own buttons.
FORM_FIELDS = (
    "title",
    "listing_type",
    "property_type",
    "price",
    "currency",
    "city",
    "neighborhood",
    "address",
    "bedrooms",
    "bathrooms",
    "area_sqm",
    "features",
    "description",
    "url",
    "reference",
)
_STATUS_ACTIONS = {
    "available": "Mark available again",
    "under_offer": "Mark under offer",
    "sold": "Mark sold",
    "rented": "Mark rented",
}
_STATUS_NOTICES = {
    "available": "listing-available",
    "under_offer": "listing-under-offer",
    "sold": "listing-sold",
    "rented": "listing-rented",
}
_FEATURE_SEPARATORS = re.compile(r"[,;|\n]")
_MESSAGES = {
    "missing": REQUIRED,
    "greater_than": "Must be more than {gt}.",
    "greater_than_equal": "Must be {ge} or more.",
    "less_than_equal": "Must be {le} or less.",
    "string_too_long": "At most {max_length} characters.",
    "too_long": "At most {max_length} items.",
    "string_pattern_mismatch": "Three capital letters, e.g. EUR.",
    "literal_error": CHOOSE_ONE,
    "url_parsing": "Enter a web address, e.g. https://example.com/listing.",
    "url_scheme": "Enter a web address starting with https://.",
    "decimal_max_places": "At most {decimal_places} decimals.",
    "decimal_max_digits": "Too many digits.",
    "decimal_whole_digits": "Too many digits.",
}
_NUMBER_ERRORS = frozenset({"decimal_parsing", "decimal_type", "int_parsing", "int_from_float"})
_NUMBER_HINTS = {
    "price": "Enter the price as a number, e.g. 372000 or 372 000.",
    "area_sqm": "Enter the area in m² as a number, e.g. 74.",
}


# ---- the list -----------------------------------------------------------------------------------


def _page_number(raw: str) -> int:
    # A hand-edited ?page= shows the first page rather than an error.
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _list_url(q: str, status: str, number: int = 1) -> str:
    params: dict[str, str | int] = {}
    if q:
        params["q"] = q
    if status != "available":
        params["status"] = status
    if number > 1:
        params["page"] = number
    return "/listings" + (f"?{urlencode(params)}" if params else "")


def money(item: PropertyRead | Property) -> str:
    return format_price(item.price, item.currency, per_month=item.listing_type == "rent")


async def _has_listings(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return await properties.has_properties(session, account_id)


@router.get("/listings")
async def listings_page(
    request: Request,
    session: SessionDep,
    user: UserDep,
    q: str = "",
    status: str = "available",
    page_param: Annotated[str, Query(alias="page")] = "1",
) -> Response:
    query = q.strip()[:MAX_QUERY]
    status = status if status in dict(STATUS_FILTERS) else "available"
    number = _page_number(page_param)
    filters = PropertyListQuery(status=status, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    found = await properties.list_properties_matching(session, user.account_id, filters, query)
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    # Past the count's limit the page says "more than": there is a next page, however far.
    more = not found.total_exact
    context = {
        "listings": found.items,
        "total": found.total,
        "total_exact": found.total_exact,
        "q": query,
        "status": status,
        "page_number": number,
        "pages": pages,
        "prev_url": _list_url(query, status, number - 1) if number > 1 else None,
        "next_url": _list_url(query, status, number + 1) if number < pages or more else None,
        "filter_links": [
            (value, label, _list_url(query, value)) for value, label in STATUS_FILTERS
        ],
        "has_any": found.total > 0 or await _has_listings(session, user.account_id),
        "statuses": STATUSES,
        "money": money,
    }
    return page(request, user, "listings/list.html", context)


# ---- the add and edit forms ---------------------------------------------------------------------


def _form_values(form: FormData) -> dict[str, str]:
    """What was typed in each field, to validate and to show again."""
    return {name: value.strip() for name, value in text_fields(form, FORM_FIELDS).items()}


def _plain_number(value: Decimal | None) -> str:
    # 372000.00 shows as "372000", 74.50 as "74.5": what a person would have typed.
    return "" if value is None else format(value.normalize(), "f")


def _values_of(prop: Property) -> dict[str, str]:
    values = {
        name: "" if getattr(prop, name) is None else str(getattr(prop, name))
        for name in FORM_FIELDS
    }
    values["price"] = _plain_number(prop.price)
    values["area_sqm"] = _plain_number(prop.area_sqm)
    values["features"] = ", ".join(prop.features)
    return values


def _blank_values() -> dict[str, str]:
    return dict.fromkeys(FORM_FIELDS, "") | {"listing_type": "sale", "currency": "EUR"}


def _listing_input(values: dict[str, str]) -> dict[str, object]:
    """Typed text as schema input: empty fields left out, amounts and lists made plain."""
    data: dict[str, object] = {name: value for name, value in values.items() if value}
    # "372 000", "372,000" and "€372.000" all mean 372000, as in the CSV import.
    for name, area in (("price", False), ("area_sqm", True)):
        amount = importer.parse_amount(values[name], area=area) if values[name] else None
        if amount is not None:
            data[name] = amount[0]
    if values["currency"]:
        data["currency"] = values["currency"].upper()
    if values["url"] and "://" not in values["url"]:
        data["url"] = f"https://{values['url']}"
    features = _FEATURE_SEPARATORS.split(values["features"])
    data["features"] = [feature.strip() for feature in features if feature.strip()]
    return data


def _message(field: str, err: ErrorDetails) -> str:
    """A schema error in words for the person at the form."""
    kind = err["type"]
    if kind in _NUMBER_ERRORS:
        return _NUMBER_HINTS.get(field, "Enter a whole number, e.g. 2.")
    if kind == "string_too_short":
        return REQUIRED
    try:
        return _MESSAGES[kind].format(**err.get("ctx", {}))
    except (KeyError, IndexError):
        return schema_words(err)


def _validate(values: dict[str, str]) -> PropertyCreate | dict[str, str]:
    """The listing the form describes, or an error message per field."""
    try:
        return PropertyCreate.model_validate(_listing_input(values))
    except ValidationError as exc:
        return field_errors(exc, _message, unnamed="title")


def _reference_taken(values: dict[str, str]) -> dict[str, str]:
    message = f"Another listing already has the reference {values['reference']}."
    return {"reference": message}


def _status_actions(prop: Property) -> list[tuple[str, str]]:
    """The status changes that make sense for this listing: a sale is never rented."""
    closing = "sold" if prop.listing_type == "sale" else "rented"
    wanted = ["available", "under_offer", closing]
    return [(value, _STATUS_ACTIONS[value]) for value in wanted if value != prop.status]


def _form_page(
    request: Request,
    user: CurrentUser,
    prop: Property | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "prop": prop,
        "values": values,
        "errors": errors or {},
        "listing_types": LISTING_TYPES,
        "max_photos": MAX_PHOTOS,
        "action": "/listings/new" if prop is None else f"/listings/{prop.id}",
    }
    if prop is not None:
        context |= {
            "status_label": STATUSES.get(prop.status, prop.status),
            "status_actions": _status_actions(prop),
        }
    return page(request, user, "listings/form.html", context, status_code=status_code)


@router.get("/listings/new")
async def new_listing_page(request: Request, user: UserDep) -> Response:
    return _form_page(request, user, None, _blank_values())


@router.post("/listings/new")
async def create_listing(request: Request, session: SessionDep, user: UserDep) -> Response:
    values = _form_values(await request.form())
    outcome = _validate(values)
    if isinstance(outcome, PropertyCreate):
        try:
            await properties.create_property(session, user.account_id, outcome)
        except ReferenceTaken:
            outcome = _reference_taken(values)
        else:
            return redirect("/listings", done="listing-created")
    return _form_page(request, user, None, values, outcome, status_code=422)


# ---- CSV import (declared before /listings/{id}, which would otherwise match "import") ----------


def _import_page(
    request: Request,
    user: CurrentUser,
    *,
    report: ImportReport | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "report": report,
        "error": error,
        "max_mb": importer.MAX_CSV_BYTES // (1024 * 1024),
    }
    return page(request, user, "listings/import.html", context, status_code=status_code)


@router.get("/listings/import")
async def import_page(request: Request, user: UserDep) -> Response:
    return _import_page(request, user)


@router.get("/listings/import/sample.csv")
async def sample_csv(user: UserDep) -> Response:
    return FileResponse(
        sample_listings_path(), media_type="text/csv", filename="sample_listings.csv"
    )


@router.post("/listings/import")
async def import_listings(request: Request, session: SessionDep, user: UserDep) -> Response:
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, user, error="Choose a CSV file to import.", status_code=422)
    try:
        # One byte past the limit is enough to know the file is too large.
        text = importer.decode_csv(await upload.read(importer.MAX_CSV_BYTES + 1))
        report = await importer.import_csv(session, user.account_id, text)
    except InvalidCsv as exc:
        # The importer refuses a whole file before it touches any listing.
        message = f"This file could not be read: {exc.message}. Nothing was imported."
        return _import_page(request, user, error=message, status_code=422)
    return _import_page(request, user, report=report)


# ---- one listing --------------------------------------------------------------------------------


@router.get("/listings/{property_id}")
async def edit_listing_page(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    prop = await properties.get_property(session, user.account_id, property_id)
    return _form_page(request, user, prop, _values_of(prop))


@router.post("/listings/{property_id}")
async def save_listing(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    # Looked up first: another account's listing answers 404 whatever the form says.
    prop = await properties.get_property(session, user.account_id, property_id)
    values = _form_values(await request.form())
    outcome = _validate(values)
    if isinstance(outcome, PropertyCreate):
        # Every field is sent, so an emptied optional field is cleared; status and viewings,
        # which the form does not show, stay as they are.
        # Nor its photos, which have their own forms below it.
        kept = {"status", "viewings", "photo_urls"}
        changes = PropertyUpdate.model_validate(outcome.model_dump(exclude=kept))
        try:
            await properties.update_property(session, user.account_id, prop.id, changes)
        except ReferenceTaken:
            outcome = _reference_taken(values)
        else:
            # Back to the list filtered so that the listing just saved is in it.
            return redirect(_list_url("", prop.status), done="listing-saved")
    return _form_page(request, user, prop, values, outcome, status_code=422)


@router.post("/listings/{property_id}/photos")
async def upload_photo(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    """One photo, stored under a name of ours and added after the listing's others."""
    prop = await properties.get_property(session, user.account_id, property_id)
    settings = request.app.state.app_state.settings
    upload = (await request.form()).get("photo")
    if len(prop.photo_urls) >= MAX_PHOTOS:
        raise PhotoRefused(f"A listing has at most {MAX_PHOTOS} photos: remove one first.")
    content = b""
    if isinstance(upload, UploadFile):
        # One byte past the limit is enough to know the photo is too large.
        content = await upload.read(settings.photos.max_bytes + 1)
    name = store_photo(settings.photos.dir, content, max_bytes=settings.photos.max_bytes)
    prop.photo_urls = [*prop.photo_urls, photo_url(settings.public_base_url, name)]
    return redirect(f"/listings/{prop.id}", done="photo-added")


@router.post("/listings/{property_id}/photos/remove")
async def remove_photo(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    prop = await properties.get_property(session, user.account_id, property_id)
    url = (await request.form()).get("url")
    prop.photo_urls = [kept for kept in prop.photo_urls if kept != url]
    return redirect(f"/listings/{prop.id}", done="photo-removed")


@router.post("/listings/{property_id}/status")
async def change_status(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    prop = await properties.get_property(session, user.account_id, property_id)
    status = (await request.form()).get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise Invalid("Unknown status. Go back, reload the page and try again.")
    changes = PropertyUpdate.model_validate({"status": status})
    await properties.update_property(session, user.account_id, prop.id, changes)
    # Back to the listing, where "Mark available again" undoes a mistaken tap.
    return redirect(f"/listings/{prop.id}", done=_STATUS_NOTICES[status])


@router.get("/listings/{property_id}/delete")
async def delete_listing_page(
    property_id: uuid.UUID, request: Request, session: SessionDep, user: UserDep
) -> Response:
    prop = await properties.get_property(session, user.account_id, property_id)
    return page(request, user, "listings/delete.html", {"prop": prop, "money": money})


@router.post("/listings/{property_id}/delete")
async def delete_listing(property_id: uuid.UUID, session: SessionDep, user: UserDep) -> Response:
    await properties.delete_property(session, user.account_id, property_id)
    return redirect("/listings", done="listing-deleted")
