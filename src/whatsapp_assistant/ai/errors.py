"""AI errors: the model service is unavailable for now, or it rejected our request or config."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from whatsapp_assistant.errors import DomainError, ErrorKind
from whatsapp_assistant.kit.clock import utcnow


class LLMError(DomainError):
    """A call to a language model failed; `status_code` is the HTTP status when there was one."""

    code = "llm_error"
    kind: ErrorKind = "unavailable"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMUnavailable(LLMError):
    """Timeouts, connection failures, 408/409/5xx left after the SDK's own retries; 429 and 529
    are its subclass LLMRateLimited.

    Worth trying again later: the reply job re-derives the work from rows (docs/architecture.md,
    invariant 2).
    """

    code = "llm_unavailable"
    kind: ErrorKind = "unavailable"


class LLMRateLimited(LLMUnavailable):
    """429 (rate limited) or Anthropic's 529 (overloaded): the provider asks every caller with
    our key to slow down, and would answer a little later. `retry_after` is the wait in seconds
    it asked for, None when it named none.
    """

    code = "llm_rate_limited"
    kind: ErrorKind = "unavailable"

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class LLMRejected(LLMError):
    """400/401/403/404 and other 4xx: a bad key, model name or request. Retrying will not help.

    The kind stays `unavailable` because the customer did nothing wrong: the assistant is
    misconfigured, and the agent has to fix the settings.
    """

    code = "llm_rejected"
    kind: ErrorKind = "unavailable"


# Statuses the SDKs themselves retry (docs/providers.md, L5, L6); what is left after their retries
# is an outage to wait out, not a mistake in our request.
_TRANSIENT_STATUSES = frozenset({408, 409, 429})


def error_for_status(provider: str, status_code: int | None) -> LLMError:
    """The error for an HTTP status; None means no response at all (timeout, connection)."""
    if status_code is None:
        return LLMUnavailable(f"{provider} API unreachable or timed out")
    if status_code in _TRANSIENT_STATUSES or status_code >= 500:
        return LLMUnavailable(
            f"{provider} API unavailable (HTTP {status_code})", status_code=status_code
        )
    return LLMRejected(
        f"{provider} API rejected the request (HTTP {status_code})", status_code=status_code
    )


def rate_limited(
    provider: str, status_code: int, headers: Mapping[str, str], *, now: datetime | None = None
) -> LLMRateLimited:
    """The error for a 429 or 529, with the wait the response asked for."""
    wait = retry_after_seconds(headers, now=now)
    said = "" if wait is None else f", retry after {wait:g} s"
    return LLMRateLimited(
        f"{provider} API rate limited (HTTP {status_code}{said})",
        status_code=status_code,
        retry_after=wait,
    )


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait a response asks for, in seconds; None when it names none we can use.

    As both SDKs read it (docs/providers.md, L9): `retry-after-ms` first, then `retry-after` in
    seconds (a float is accepted) or as an HTTP date. The first header present decides; a wait
    of 0 or less means nothing, as the SDKs ignore it too.
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        return _positive(_number(milliseconds), scale=0.001)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        seconds = (when - (now or utcnow())).total_seconds()
    return _positive(seconds)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _positive(value: float | None, *, scale: float = 1.0) -> float | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return value * scale


class TranscriptionError(DomainError):
    """A voice note could not be turned into text. `retryable`: the service timed out, was
    unreachable, rate limited us or failed (5xx), and may answer later; otherwise (400, 401,
    413, …) it refused this audio or our settings, and asking again will not help."""

    code = "transcription_failed"
    kind: ErrorKind = "unavailable"

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code
