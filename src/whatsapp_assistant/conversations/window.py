"""Meta's 24-hour customer service window: whether a conversation may take a free-form message
now (docs/providers.md, M9; docs/decisions.md, 30).

The window is the adapter's capability (`SendsTemplates.service_window`): a provider without one
(Green API, the simulator) is always open, through the same code path.
"""

from __future__ import annotations

from datetime import datetime

from whatsapp_assistant.channels.base import ChannelAdapter, SendsTemplates
from whatsapp_assistant.kit.clock import as_utc

# data[TEMPLATE] of an outbox row: {"name", "language", "parameters", "parameter_names"}, what
# goes instead of the text when the window is closed at send time.
TEMPLATE = "template"

CLOSED = (
    "not sent: the customer last wrote more than 24 hours ago, and WhatsApp then accepts only "
    "an approved template"
)


def is_open(adapter: ChannelAdapter, customer_wrote_at: datetime | None, now: datetime) -> bool:
    """Free-form may go: the provider has no window, or the customer wrote within it."""
    if not isinstance(adapter, SendsTemplates):
        return True
    if customer_wrote_at is None:
        return False
    return now - as_utc(customer_wrote_at) < adapter.service_window
