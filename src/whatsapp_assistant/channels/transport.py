"""A provider call that never got an answer, as the one SendError both adapters give for it."""

from __future__ import annotations

import httpx

from whatsapp_assistant.channels.errors import SendError


def transport_failure(what: str, exc: httpx.TransportError) -> SendError:
    """Retryable always; `ambiguous` once the request may have reached the provider (a read
    timeout, a dropped answer), so the outbox, not the adapter, decides on a second try
    (docs/architecture.md, invariant 5). The text names the call, never its URL or token."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return SendError(
            f"{what} could not connect in time ({kind})", status_code=None, retryable=True
        )
    if isinstance(exc, httpx.TimeoutException | httpx.RemoteProtocolError):
        return SendError(
            f"{what} timed out ({kind})", status_code=None, retryable=True, ambiguous=True
        )
    return SendError(f"{what} could not be reached ({kind})", status_code=None, retryable=True)
