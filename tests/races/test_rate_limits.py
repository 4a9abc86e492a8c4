"""The provider's 429 or 529 slows the queue down; it does not fail the replies.

A rush hour through the real SDK against the fake Anthropic API, which refuses calls for a rate
limit for a while: the process waits out the limit with fewer calls at once
(conversations/model_calls.py), every customer gets the real answer, and only a limit that
outlasts LLM_RATE_LIMIT_GIVE_UP_SECONDS hands a conversation over. What the fake saw is counted,
not timed: calls that start after the process heard the limit reach the fake only once the wait
it asked for has passed, so they are never refused.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conversations.harness import JAMES, Service, drained, fixture, wait_until
from tests.conversations.service_fixtures import StartClaude
from tests.fakes.anthropic_server import FakeAnthropic, error_response, rate_limit_response
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.llm_base import FakeResponse, RateLimit
from tests.races.conftest import customer_text, messages_of
from whatsapp_assistant.db.session import Database

CUSTOMERS = 8
CALLS = 3  # model calls at once in the process: fewer than the customers
LIMITED_FOR = 1.0  # seconds the fake refuses calls, from the first one it refuses
REPLY = "Rita has a sunny T2 in Graça for you: shall I book a viewing?"


def _in_seconds(left: float) -> FakeResponse:
    return rate_limit_response(429, retry_after=str(math.ceil(left)))


def _overloaded(_left: float) -> FakeResponse:
    return rate_limit_response(529)  # names no wait: LLM_RATE_LIMIT_BACKOFF_SECONDS applies


@pytest.fixture
async def rush(start_claude: StartClaude) -> AsyncIterator[Service]:
    async with start_claude(
        listing=True,
        worker_concurrency_reply=2 * CUSTOMERS,
        llm_max_concurrent_calls=CALLS,
        llm_max_concurrent_calls_per_account=CALLS,
        # An outage is given up quickly, well inside the limit: only waiting out the rate
        # limit gets these customers their answer.
        llm_outage_retries=1,
        llm_outage_backoff_seconds=0.05,
        llm_rate_limit_backoff_seconds=LIMITED_FOR,
        llm_rate_limit_give_up_seconds=60.0,
    ) as running:
        yield running


@pytest.fixture
async def impatient(start_claude: StartClaude) -> AsyncIterator[Service]:
    async with start_claude(
        listing=True,
        llm_outage_retries=1,
        llm_outage_backoff_seconds=0.05,
        llm_rate_limit_give_up_seconds=1.0,
    ) as running:
        yield running


def _chat(index: int) -> str:
    return f"44770091{index:04d}@c.us"


async def _conversations(service: Service, **params: str) -> list[dict[str, Any]]:
    listed = await service.client.get(
        "/api/v1/conversations", headers=service.account.headers, params=params
    )
    assert listed.status_code == 200, listed.text
    rows: list[dict[str, Any]] = listed.json()
    return rows


class TestRushHour:
    @pytest.mark.parametrize(
        "refusal",
        [
            pytest.param(_in_seconds, id="429-with-retry-after"),
            pytest.param(_overloaded, id="529-overloaded"),
        ],
    )
    async def test_every_customer_gets_the_ai_reply_once_the_limit_has_passed(
        self,
        refusal: Callable[[float], FakeResponse],
        rush: Service,
        fake_anthropic: FakeAnthropic,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        limit = RateLimit(refusal, seconds=LIMITED_FOR, then=lambda _body: REPLY)
        fake_anthropic.responder = limit

        for index in range(CUSTOMERS):
            message = customer_text(_chat(index), f"3EB0RUSH{index:012d}", "Any flat in Graça?")
            assert (await rush.post_webhook(message)).status_code == 200
        await drained(rush, within=60.0)

        sent = sorted((m["chatId"], m["message"]) for m in fake_green_api.sent_messages)
        assert sent == [(_chat(index), REPLY) for index in range(CUSTOMERS)]
        conversations = await _conversations(rush)
        assert [(c["mode"], c["escalated"]) for c in conversations] == [("ai", False)] * CUSTOMERS
        # Only the calls already under way when the limit came were refused; every call started
        # after it waited until the wait asked for had passed. Each refused reply tried once more.
        assert 1 <= limit.refused <= CALLS
        assert len(fake_anthropic.requests) == CUSTOMERS + limit.refused


async def _handed_over_with_the_holding_message(service: Service) -> None:
    """A customer writes; once all is done, they had the holding message and the agent has the
    conversation, escalated because the AI was unavailable."""
    await service.post_webhook(fixture("incoming_text"))
    await service.wait_for_sends(1)
    await drained(service)

    [holding] = service.green_api.sent_messages
    assert holding["chatId"] == JAMES
    [escalated] = await _conversations(service, escalated="true")
    assert (escalated["mode"], escalated["escalation_reason"]) == ("human", "ai_unavailable")


class TestGivingUp:
    async def test_a_limit_that_outlasts_the_bound_hands_over_with_the_holding_message(
        self, impatient: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        # The provider asks for half a minute; the bound is one second.
        fake_anthropic.responder = lambda _body: rate_limit_response(429, retry_after="30")

        await _handed_over_with_the_holding_message(impatient)
        # Handed over at once: a wait past the bound is not worth waiting, nor trying again.
        assert len(fake_anthropic.requests) == 1

    async def test_a_server_error_is_still_an_outage_tried_again_then_handed_over(
        self, impatient: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.responder = lambda _body: error_response(500)

        await _handed_over_with_the_holding_message(impatient)
        assert len(fake_anthropic.requests) == 2  # the first try and LLM_OUTAGE_RETRIES=1
        calls = impatient.runtime.model_calls
        ceiling = impatient.runtime.settings.llm.max_concurrent_calls
        assert (calls.limit, calls.paused_for()) == (ceiling, 0)  # an outage slows nothing down


class TestTakeoverDuringTheWait:
    async def test_a_reply_waiting_out_a_rate_limit_never_speaks_after_a_takeover(
        self,
        rush: Service,
        db: Database,
        fake_anthropic: FakeAnthropic,
        fake_green_api: FakeGreenAPI,
    ) -> None:
        # Refused for good, each time asking for one second: only the takeover ends the wait
        # (well before LLM_RATE_LIMIT_GIVE_UP_SECONDS).
        limit = RateLimit(
            lambda _left: rate_limit_response(429, retry_after="1"),
            seconds=math.inf,
            then=lambda _body: REPLY,
        )
        fake_anthropic.responder = limit
        await rush.post_webhook(fixture("incoming_text"))
        await wait_until(lambda: limit.refused >= 1)  # the reply is waiting out the limit
        [conversation] = await _conversations(rush)

        taken = await rush.client.post(
            f"/api/v1/conversations/{conversation['id']}/mode",
            headers=rush.account.headers,
            json={"mode": "human"},
        )
        assert taken.status_code == 200, taken.text
        calls_at_takeover = len(fake_anthropic.requests)
        await drained(rush, conversation["id"])  # the waiting reply saw the takeover and ended

        outbound = await messages_of(db, uuid.UUID(conversation["id"]), direction="out")
        assert outbound == []  # no AI reply, no holding notice: the agent has it
        assert fake_green_api.sent_messages == []
        # It looked before trying again: no call after the takeover but one already under way.
        assert len(fake_anthropic.requests) <= calls_at_takeover + 1
