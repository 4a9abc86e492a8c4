"""The persona page's "try it" chat is a simulator conversation with this contact."""

from __future__ import annotations

SANDBOX_PHONE = "100000000000"
SANDBOX_CHAT_ID = f"{SANDBOX_PHONE}@c.us"
