"""Listing routes: create, read, update, delete, search and CSV import, for the caller's account."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from whatsapp_assistant.properties import importer
from whatsapp_assistant.properties import service as properties
from whatsapp_assistant.properties.schemas import (
    ImportReport,
    PropertyCreate,
    PropertyListQuery,
    PropertyPage,
    PropertyRead,
    PropertyUpdate,
)
from whatsapp_assistant.web.api.json_body import JSONBodyRoute
from whatsapp_assistant.web.deps import CallerDep, SessionDep
from whatsapp_assistant.web.errors import error_responses

router = APIRouter(prefix="/properties", tags=["properties"], route_class=JSONBodyRoute)

_LIST_DESCRIPTION = """\
Search the account's listings. Answers `{"items": [PropertyRead, ...], "total": N}`, where
`total` counts every match before `limit` and `offset` are applied.

`location` matches city, neighbourhood or address ignoring case and accents ("graca" finds
Graça); repeat it for several places, any of which may match
(`location=Graça&location=Campo de Ourique`); `text` needs every word in the title,
description or features; `property_type` accepts synonyms ("flat" is an apartment). Only
`available` listings unless `status` says otherwise; `status=any` lists every status. Sorted
by price. Unknown parameters answer 422.
"""

_IMPORT_DESCRIPTION = f"""\
Upload a CSV file (field `file`, UTF-8 or Windows-1252, comma or semicolon separated, at most
{importer.MAX_CSV_BYTES // (1024 * 1024)} MB) whose header names the listing fields (`title` is
required). Valid rows are imported and invalid rows reported by spreadsheet row number (the header
is row 1) and field. A row whose `reference` the account already has updates that listing, so
importing the same file again changes nothing. A file that cannot be read at all answers 422
`invalid_csv`.
"""


@router.post("", status_code=201, responses=error_responses(400, 403, 409, 422))
async def create_property(
    body: PropertyCreate, session: SessionDep, caller: CallerDep
) -> PropertyRead:
    prop = await properties.create_property(session, caller.account_id, body)
    return PropertyRead.model_validate(prop)


@router.get("", description=_LIST_DESCRIPTION, responses=error_responses(422))
async def list_properties(
    filters: Annotated[PropertyListQuery, Query()], session: SessionDep, caller: CallerDep
) -> PropertyPage:
    return await properties.list_properties(session, caller.account_id, filters)


@router.post("/import", description=_IMPORT_DESCRIPTION, responses=error_responses(400, 403, 422))
async def import_properties(
    file: Annotated[UploadFile, File(description="the listings CSV")],
    session: SessionDep,
    caller: CallerDep,
) -> ImportReport:
    # One byte past the limit is enough to know the file is too large, without reading it all.
    text = importer.decode_csv(await file.read(importer.MAX_CSV_BYTES + 1))
    return await importer.import_csv(session, caller.account_id, text)


@router.get("/{property_id}", responses=error_responses(404, 422))
async def get_property(
    property_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> PropertyRead:
    prop = await properties.get_property(session, caller.account_id, property_id)
    return PropertyRead.model_validate(prop)


@router.patch("/{property_id}", responses=error_responses(400, 403, 404, 409, 422))
async def update_property(
    property_id: uuid.UUID, body: PropertyUpdate, session: SessionDep, caller: CallerDep
) -> PropertyRead:
    prop = await properties.update_property(session, caller.account_id, property_id, body)
    return PropertyRead.model_validate(prop)


@router.delete("/{property_id}", status_code=204, responses=error_responses(403, 404, 422))
async def delete_property(property_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> None:
    await properties.delete_property(session, caller.account_id, property_id)
