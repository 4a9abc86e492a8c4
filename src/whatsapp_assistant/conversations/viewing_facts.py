"""Viewing rows mapped onto `scheduling.facts.ViewingFacts`, the plain values that the customer's
texts, the `.ics` invitation and the agent's calendar feed are made from.

Here, above scheduling, because a viewing's facts join three packages that scheduling may not
import: the listing (properties), the persona's names (accounts) and the account's zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.accounts.models import Persona
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling.facts import Place, ViewingFacts, ViewingStatus
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import load_calendar


async def facts_for(
    session: AsyncSession, account_id: uuid.UUID, viewings: Sequence[Viewing]
) -> list[ViewingFacts]:
    """The facts of each of the account's `viewings`, in their order: three reads whatever
    their number (the listings, the persona, the calendar's zone)."""
    if not viewings:
        return []
    ids = {viewing.property_id for viewing in viewings}
    stmt = for_account(select(Property), Property, account_id).where(Property.id.in_(ids))
    listings = {row.id: row for row in (await session.execute(stmt)).scalars()}
    # Read only: the public calendar feed calls this, and a GET must not write a persona row.
    stmt_persona = for_account(select(Persona), Persona, account_id)
    persona = (await session.execute(stmt_persona)).scalar_one_or_none() or Persona(
        account_id=account_id, agent_name="", agency_name=""
    )
    zone = (await load_calendar(session, account_id)).rules.time_zone
    facts: list[ViewingFacts] = []
    for viewing in viewings:
        listing = listings[viewing.property_id]
        facts.append(
            ViewingFacts(
                id=viewing.id,
                starts_at=viewing.starts_at,
                ends_at=viewing.ends_at,
                zone=zone,
                place=Place(
                    title=listing.title,
                    city=listing.city,
                    address=listing.address,
                    neighborhood=listing.neighborhood,
                ),
                agent_name=persona.agent_name,
                agency_name=persona.agency_name,
                status=ViewingStatus(viewing.status),
                sequence=viewing.sequence,
                customer_name=viewing.customer_name,
            )
        )
    return facts
