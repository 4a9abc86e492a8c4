"""The one factory of outbound HTTP clients: explicit timeouts, a User-Agent, no secrets logged."""

from __future__ import annotations

import logging

import httpx

USER_AGENT = "whatsapp-assistant"

# Connecting should never take long; a slow provider shows up in read time instead.
_MAX_CONNECT_SECONDS = 10.0


def make_http_client(*, timeout: float, base_url: str = "") -> httpx.AsyncClient:
    """An AsyncClient whose every phase (connect, read, write, pool wait) is bounded.

    Redirects are not followed: a provider answering 3xx to an API call is misconfigured, and
    following it would silently turn a POST into a GET against another URL.
    """
    _hide_urls_in_httpx_logs()
    timeouts = httpx.Timeout(
        connect=min(timeout, _MAX_CONNECT_SECONDS),
        read=timeout,
        write=timeout,
        pool=timeout,
    )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeouts,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def _hide_urls_in_httpx_logs() -> None:
    """httpx logs every request's full URL at INFO; provider URLs can carry secrets.

    Green API puts the instance token in the path (docs/providers.md, G1), so a log line with
    the URL is a leaked credential. The filter keeps the line but shows only the URL's origin.
    """
    httpx_logger = logging.getLogger("httpx")
    if _origin_only not in httpx_logger.filters:
        httpx_logger.addFilter(_origin_only)


def _origin_only(record: logging.LogRecord) -> bool:
    if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
        record.args = tuple(
            f"{arg.scheme}://{arg.netloc.decode('ascii')}/…" if isinstance(arg, httpx.URL) else arg
            for arg in record.args
        )
    return True
