"""AI errors: the model service is unavailable for now, or it rejected our request or config."""

from __future__ import annotations

from whatsapp_assistant.errors import DomainError, ErrorKind


class LLMError(DomainError):
    """A call to a language model failed; `status_code` is the HTTP status when there was one."""

    code = "llm_error"
    kind: ErrorKind = "unavailable"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMUnavailable(LLMError):
    """Timeouts, connection failures, 408/409/429/5xx/529 left after the SDK's own retries.

    Worth trying again later: the reply job re-derives the work from rows (docs/architecture.md,
    invariant 2).
    """

    code = "llm_unavailable"
    kind: ErrorKind = "unavailable"


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
