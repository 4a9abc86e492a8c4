"""Reading a received file from a provider's URL: at most `max_bytes`, errors sorted into those
that may pass and those that will not (docs/decisions.md, 31)."""

from __future__ import annotations

import httpx

from whatsapp_assistant.channels.errors import DownloadError, MediaTooLarge
from whatsapp_assistant.channels.types import DownloadedMedia

# Throttling and the provider's own faults may pass; a refused or vanished link will not (a
# fresh link may be asked for: docs/providers.md, G21).
_RETRYABLE_STATUS = frozenset({408, 425, 429})


async def read_capped(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    what: str,
    headers: dict[str, str] | None = None,
    filename: str = "",
) -> DownloadedMedia:
    """GET `url` and read its body, stopping past `max_bytes` (MediaTooLarge). The error text
    never holds the URL: a provider's link is a credential while it lasts."""
    try:
        async with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status != 200:
                raise DownloadError(
                    f"{what} answered {status}",
                    status_code=status,
                    retryable=status >= 500 or status in _RETRYABLE_STATUS,
                )
            declared = _length(response.headers.get("content-length"))
            if declared is not None and declared > max_bytes:
                raise MediaTooLarge(f"{what}: {declared} bytes", size=declared)
            chunks: list[bytes] = []
            read = 0
            async for chunk in response.aiter_bytes():
                read += len(chunk)
                if read > max_bytes:
                    raise MediaTooLarge(f"{what}: more than {max_bytes} bytes", size=declared)
                chunks.append(chunk)
            mime = response.headers.get("content-type", "")
    except httpx.TransportError as exc:
        raise DownloadError(
            f"{what} could not be read ({type(exc).__name__})", status_code=None, retryable=True
        ) from None
    return DownloadedMedia(content=b"".join(chunks), mime=mime, filename=filename)


def _length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())
