"""A rate limit is told apart from an outage, with the wait the provider asked for
(docs/providers.md, L9): through the real SDKs against the loopback fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.ai.conftest import Listings, anthropic_settings, ask, openai_settings
from tests.fakes import anthropic_server, openai_server
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.llm_base import FakeResponse
from tests.fakes.openai_server import FakeOpenAI
from whatsapp_assistant.ai.errors import (
    LLMError,
    LLMRateLimited,
    LLMUnavailable,
    retry_after_seconds,
)
from whatsapp_assistant.ai.providers.anthropic import AnthropicProvider
from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.ai.providers.openai_compat import OpenAICompatProvider

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


async def _error(provider: LLMProvider, listings: Listings) -> LLMError:
    """What `provider` raises for one reply, through its real SDK."""
    try:
        with pytest.raises(LLMError) as raised:
            await provider.draft_reply(ask("Hi"), listings.tools)
    finally:
        await provider.aclose()
    return raised.value


async def _claude_error(fake: FakeAnthropic, listings: Listings) -> LLMError:
    return await _error(AnthropicProvider(*anthropic_settings(fake)), listings)


async def _local_error(fake: FakeOpenAI, listings: Listings) -> LLMError:
    return await _error(OpenAICompatProvider(*openai_settings(fake)), listings)


class TestAnthropic:
    @pytest.mark.parametrize(
        ("response", "status", "wait"),
        [
            pytest.param(
                anthropic_server.rate_limit_response(429, retry_after="7"),
                429,
                7.0,
                id="429-with-its-retry-after-in-seconds",
            ),
            pytest.param(
                anthropic_server.rate_limit_response(529),
                529,
                None,
                id="529-overloaded-even-without-a-wait",
            ),
        ],
    )
    async def test_429_and_529_are_rate_limits_with_the_wait_asked_for(
        self,
        response: FakeResponse,
        status: int,
        wait: float | None,
        fake_anthropic: FakeAnthropic,
        listings: Listings,
    ) -> None:
        fake_anthropic.queue_response(response)

        error = await _claude_error(fake_anthropic, listings)

        assert isinstance(error, LLMRateLimited)
        assert (error.status_code, error.retry_after) == (status, wait)

    async def test_retry_after_ms_is_read_before_retry_after(
        self, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_response(
            anthropic_server.rate_limit_response(429, retry_after="9", retry_after_ms="1500")
        )

        error = await _claude_error(fake_anthropic, listings)

        assert isinstance(error, LLMRateLimited)
        assert error.retry_after == 1.5

    async def test_retry_after_as_an_http_date_is_the_time_left_until_then(
        self, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        then = datetime.now(UTC) + timedelta(seconds=30)
        fake_anthropic.queue_response(
            anthropic_server.rate_limit_response(429, retry_after=format_datetime(then, True))
        )

        error = await _claude_error(fake_anthropic, listings)

        assert isinstance(error, LLMRateLimited)
        assert error.retry_after is not None
        assert 0 < error.retry_after <= 30

    async def test_the_monthly_spend_cap_is_an_outage_not_a_rate_limit(
        self, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        body = {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "You have reached your monthly spend limit.",
                "details": {"error_code": "enforced_spend_limit_reached"},
            },
        }
        fake_anthropic.queue_response(FakeResponse(status=429, body=body))

        error = await _claude_error(fake_anthropic, listings)

        assert isinstance(error, LLMUnavailable)
        assert not isinstance(error, LLMRateLimited)  # waiting minutes would not lift it

    @pytest.mark.parametrize("status", [500, 503])
    async def test_server_errors_stay_outages(
        self, status: int, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_error(status)

        error = await _claude_error(fake_anthropic, listings)

        assert isinstance(error, LLMUnavailable)
        assert not isinstance(error, LLMRateLimited)


class TestOpenAICompatible:
    async def test_429_is_a_rate_limit_with_its_retry_after(
        self, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_response(openai_server.rate_limit_response(retry_after="3"))

        error = await _local_error(fake_openai, listings)

        assert isinstance(error, LLMRateLimited)
        assert (error.status_code, error.retry_after) == (429, 3.0)

    async def test_a_server_error_stays_an_outage(
        self, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_error(500)

        error = await _local_error(fake_openai, listings)

        assert isinstance(error, LLMUnavailable)
        assert not isinstance(error, LLMRateLimited)


class TestRetryAfterSeconds:
    @pytest.mark.parametrize(
        ("headers", "seconds"),
        [
            ({"retry-after": "12"}, 12.0),
            ({"retry-after": "0.25"}, 0.25),  # not in the standard, but the SDKs accept it
            ({"retry-after-ms": "250", "retry-after": "12"}, 0.25),
            ({"retry-after": "Fri, 20 Nov 2026 09:30:45 GMT"}, 45.0),
            ({}, None),
            ({"retry-after": "0"}, None),  # 0 means nothing, as for the SDKs
            ({"retry-after": "-3"}, None),
            ({"retry-after": "soon"}, None),
            ({"retry-after": "Fri, 20 Nov 2026 09:29:00 GMT"}, None),  # already past
            ({"retry-after-ms": "0", "retry-after": "12"}, None),  # the first one present decides
            ({"retry-after": "nan"}, None),
        ],
    )
    def test_reads_the_wait_as_the_sdks_do(
        self, headers: dict[str, str], seconds: float | None
    ) -> None:
        assert retry_after_seconds(headers, now=NOW) == seconds
