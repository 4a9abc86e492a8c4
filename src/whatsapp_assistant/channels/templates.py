"""Meta templates: the business account's list (fetched from Graph) and which approved one each
automated message uses outside the 24-hour window (docs/decisions.md, 30)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.base import SendsTemplates
from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.models import Channel, TemplateMapping, TemplatePurpose
from whatsapp_assistant.channels.types import TemplateInfo
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.errors import Conflict, Invalid, Unavailable

# What each purpose fills a template's body with, in order (docs/decisions.md, 30).
PARAMETERS: dict[TemplatePurpose, tuple[str, ...]] = {
    TemplatePurpose.FOLLOWUP: ("the customer's first name",),
    TemplatePurpose.REMINDER: (
        "the customer's first name",
        "the viewing's day and time",
        "the listing",
    ),
    TemplatePurpose.AFTER_VIEWING: ("the customer's first name", "the listing"),
}
LIST_DEADLINE_SECONDS = 15.0


class NoTemplates(Conflict):
    """A well-formed request about a channel whose provider has no templates (no window)."""

    code = "channel_has_no_templates"


class TemplateNotFound(Invalid):
    code = "template_not_found"


class TemplateNotApproved(Invalid):
    code = "template_not_approved"


class TemplateDoesNotFit(Invalid):
    code = "template_does_not_fit"


class TemplatesUnavailable(Unavailable):
    code = "templates_unavailable"


def _adapter(adapters: Mapping[str, object], channel: Channel) -> SendsTemplates:
    adapter = adapters.get(channel.type)
    if not isinstance(adapter, SendsTemplates):
        raise NoTemplates(f"a {channel.type} channel sends anything at any time: no templates")
    return adapter


async def fetch_templates(
    adapters: Mapping[str, object], channel: Channel
) -> Sequence[TemplateInfo]:
    """The business account's templates as Graph lists them now. Call it with no write pending
    on the session (channels/service.py, check_connection)."""
    adapter = _adapter(adapters, channel)
    try:
        async with asyncio.timeout(LIST_DEADLINE_SECONDS):
            return await adapter.list_templates(channel)
    except TimeoutError:
        raise TemplatesUnavailable("Graph did not list the templates in time") from None
    except SendError as exc:
        raise TemplatesUnavailable(f"Graph did not list the templates: {exc.message}") from None


async def list_mappings(
    session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID
) -> Sequence[TemplateMapping]:
    stmt = (
        for_account(select(TemplateMapping), TemplateMapping, account_id)
        .where(TemplateMapping.channel_id == channel_id)
        .order_by(TemplateMapping.purpose)
    )
    return (await session.execute(stmt)).scalars().all()


def check_fits(
    templates: Sequence[TemplateInfo], purpose: TemplatePurpose, name: str, language: str
) -> TemplateInfo:
    """The listed template of that name and language, approved, asking no more than `purpose`
    can fill."""
    found = next((t for t in templates if (t.name, t.language) == (name, language)), None)
    if found is None:
        raise TemplateNotFound(
            f"the business account has no template {name!r} in {language!r}", field="name"
        )
    if not found.approved:
        raise TemplateNotApproved(
            f"template {name!r} is {found.status}: only an APPROVED one can be sent", field="name"
        )
    offered = PARAMETERS[purpose]
    if found.parameter_count > len(offered):
        raise TemplateDoesNotFit(
            f"template {name!r} has {found.parameter_count} body parameters; a {purpose.value} "
            f"fills {len(offered)}: " + ", ".join(offered),
            field="name",
        )
    return found


async def map_template(
    session: AsyncSession, channel: Channel, purpose: TemplatePurpose, template: TemplateInfo
) -> TemplateMapping:
    """Use `template` (checked by check_fits) for `purpose` on the channel, replacing any."""
    stmt = select(TemplateMapping).where(
        TemplateMapping.channel_id == channel.id, TemplateMapping.purpose == purpose.value
    )
    mapping = (await session.execute(stmt)).scalar_one_or_none()
    if mapping is None:
        mapping = TemplateMapping(
            account_id=channel.account_id, channel_id=channel.id, purpose=purpose.value
        )
        session.add(mapping)
    mapping.name, mapping.language = template.name, template.language
    mapping.parameter_names = list(template.parameter_names)
    mapping.parameter_count = template.parameter_count
    await session.flush()
    return mapping


async def unmap_template(session: AsyncSession, channel: Channel, purpose: TemplatePurpose) -> None:
    await session.execute(
        delete(TemplateMapping).where(
            TemplateMapping.channel_id == channel.id, TemplateMapping.purpose == purpose.value
        )
    )


async def find_mapping(
    session: AsyncSession, channel_id: uuid.UUID, purpose: TemplatePurpose
) -> TemplateMapping | None:
    stmt = select(TemplateMapping).where(
        TemplateMapping.channel_id == channel_id, TemplateMapping.purpose == purpose.value
    )
    return (await session.execute(stmt)).scalar_one_or_none()
