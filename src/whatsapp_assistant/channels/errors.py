"""Channel errors: a payload we cannot read, a caller we cannot trust, a send that failed."""

from __future__ import annotations

from whatsapp_assistant.errors import DomainError, ErrorKind


class PayloadError(DomainError):
    """The webhook body is not a notification we can identify (answered 4xx, never 5xx)."""

    code = "invalid_payload"
    kind: ErrorKind = "invalid"


class PayloadTooLarge(PayloadError):
    """The webhook body is longer than we read (answered 413)."""

    code = "payload_too_large"


class SendError(DomainError):
    """A send the provider refused or could not take; `retryable`: whether trying again may help."""

    code = "send_failed"
    kind: ErrorKind = "unavailable"

    def __init__(
        self, message: str, *, status_code: int | None, retryable: bool, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable
        # The provider may have taken the message: re-sending at once could deliver it twice.
        self.ambiguous = ambiguous


class DownloadError(SendError):
    """A received file the provider did not hand over; `retryable`: whether later may help."""

    code = "download_failed"


class MediaTooLarge(DomainError):
    """A received file longer than MEDIA_MAX_BYTES: reading stopped there. `size` is the whole
    file's length when the provider told it, else None."""

    code = "media_too_large"
    kind: ErrorKind = "invalid"

    def __init__(self, message: str, *, size: int | None) -> None:
        super().__init__(message)
        self.size = size
