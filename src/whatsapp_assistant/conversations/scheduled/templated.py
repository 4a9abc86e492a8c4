"""A due automated message outside Meta's 24-hour window goes as the template the agent mapped
for its kind, its body filled from the message; without one it is not sent (docs/decisions.md,
30)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_assistant.channels.models import Channel, TemplatePurpose
from whatsapp_assistant.channels.templates import find_mapping
from whatsapp_assistant.conversations.models import Contact
from whatsapp_assistant.conversations.scheduled.models import ScheduledKind, ScheduledMessage
from whatsapp_assistant.properties.models import Property
from whatsapp_assistant.scheduling.models import Viewing
from whatsapp_assistant.scheduling.service import time_zone
from whatsapp_assistant.scheduling.wording import clock_time, language_of, long_day

_PURPOSES = {
    ScheduledKind.FOLLOWUP: TemplatePurpose.FOLLOWUP,
    ScheduledKind.REMINDER: TemplatePurpose.REMINDER,
    ScheduledKind.AFTER_VIEWING: TemplatePurpose.AFTER_VIEWING,
}
# A template parameter may not be empty: a customer whose name we do not know is greeted so.
_NO_NAME = {"en": "there", "es": "cliente", "pt": "cliente"}


async def template_for(
    session: AsyncSession,
    row: ScheduledMessage,
    channel: Channel,
    contact: Contact,
    viewing: Viewing | None,
    language: str,
) -> dict[str, object] | str:
    """The outbox's template data for `row`, or why it cannot go (shown in the thread)."""
    purpose = _PURPOSES.get(ScheduledKind(row.kind))
    mapping = None if purpose is None else await find_mapping(session, channel.id, purpose)
    if purpose is None or mapping is None:
        label = purpose.value.replace("_", "-") if purpose else row.kind
        return (
            "not sent: the customer last wrote more than 24 hours ago, and no approved template "
            f"is mapped for the {label} message on the Channels page"
        )
    lang = language_of(language)
    first = contact.name.split()[0] if contact.name.split() else _NO_NAME[lang]
    values = [first]
    if viewing is not None:
        listing = await session.get(Property, viewing.property_id)
        title = listing.title if listing is not None else ""
        if purpose == TemplatePurpose.REMINDER:
            zone = await time_zone(session, row.account_id)
            day = long_day(viewing.starts_at, zone, lang)
            values.append(f"{day} {clock_time(viewing.starts_at, zone, lang)}")
        values.append(title)
    return {
        "name": mapping.name,
        "language": mapping.language,
        "parameters": values[: mapping.parameter_count],
        "parameter_names": list(mapping.parameter_names),
    }
