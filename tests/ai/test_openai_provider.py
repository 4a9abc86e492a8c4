"""The OpenAI-compatible provider through the real SDK against the loopback fake server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.ai.conftest import GRACA, RIVAL, Listings, ask, openai_settings
from tests.fakes.openai_server import FakeOpenAI, run_fake_openai
from whatsapp_assistant.ai.errors import LLMRejected, LLMUnavailable
from whatsapp_assistant.ai.providers.openai_compat import OpenAICompatProvider
from whatsapp_assistant.ai.tools import TOOLS


@pytest.fixture
async def provider(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatProvider]:
    local = OpenAICompatProvider(*openai_settings(fake_openai))
    yield local
    await local.aclose()


class TestToolRoundTrip:
    async def test_reply_names_a_real_listing_from_the_database(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        draft = await provider.draft_reply(ask("Any flats in Graça?"), listings.tools)

        assert GRACA in draft.text
        assert (draft.provider, draft.model) == ("openai", "llama3.2")
        assert [(c.name, c.arguments) for c in draft.tool_calls] == [
            ("search_properties", {"location": "Graça"})
        ]

    async def test_transcript_is_system_user_assistant_tool_calls_then_tool(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        await provider.draft_reply(ask("Any flats in Graça?"), listings.tools)

        first, second = (request.body for request in fake_openai.requests)
        assert first["tool_choice"] == "auto"
        assert [t["function"]["name"] for t in first["tools"]] == [tool.name for tool in TOOLS]
        assert "temperature" not in first
        roles = [m["role"] for m in second["messages"]]
        assert roles == ["system", "user", "assistant", "tool"]
        call = second["messages"][2]["tool_calls"][0]
        assert json.loads(call["function"]["arguments"]) == {"location": "Graça"}
        assert second["messages"][3]["tool_call_id"] == call["id"]
        assert "Rita Almeida" in second["messages"][0]["content"]
        assert "Any flats in Graça?" not in second["messages"][0]["content"]

    async def test_another_accounts_listing_never_reaches_the_server(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_tool_call("search_properties", {"location": "Graça"})

        await provider.draft_reply(ask("Graça?"), listings.tools)

        assert not any(RIVAL in request.raw for request in fake_openai.requests)

    async def test_arguments_that_are_not_json_go_back_as_an_error(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_tool_call("search_properties", "{location: Graça")

        draft = await provider.draft_reply(ask("Graça?"), listings.tools)

        tool_message = fake_openai.requests[1].body["messages"][-1]
        assert tool_message["content"].startswith("ERROR: ")
        assert draft.tool_calls[0].is_error

    async def test_tool_loop_is_bounded(self, fake_openai: FakeOpenAI, listings: Listings) -> None:
        fake_openai.queue_tool_call("search_properties", {}, count=50)
        local = OpenAICompatProvider(*openai_settings(fake_openai, max_tool_rounds=2))

        draft = await local.draft_reply(ask("Everything"), listings.tools)
        await local.aclose()

        assert len(fake_openai.requests) == 3
        assert fake_openai.requests[-1].body["tool_choice"] == "none"
        assert "Rita Almeida will get back to you" in draft.text

    async def test_handoff_tool_call_ends_with_a_handoff(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_tool_call(
            "handoff_to_human", {"reason": "legal", "detail": "Asks for a contract review"}
        )

        draft = await provider.draft_reply(ask("Can you check my contract?"), listings.tools)

        assert draft.handoff is not None
        assert draft.handoff.reason == "legal"

    async def test_content_filter_becomes_a_handoff(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_text("", finish_reason="content_filter")

        draft = await provider.draft_reply(ask("..."), listings.tools)

        assert draft.handoff is not None
        assert draft.handoff.detail == "model refused"


class TestErrors:
    async def test_server_error_storm_is_unavailable_after_retries(
        self, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_error(500, count=10)
        local = OpenAICompatProvider(*openai_settings(fake_openai, max_retries=2))

        with pytest.raises(LLMUnavailable) as raised:
            await local.draft_reply(ask("Hi"), listings.tools)
        await local.aclose()

        assert raised.value.status_code == 500
        assert len(fake_openai.requests) == 3

    async def test_rate_limit_is_unavailable(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_error(429)

        with pytest.raises(LLMUnavailable):
            await provider.draft_reply(ask("Hi"), listings.tools)

    @pytest.mark.parametrize("status", [400, 401, 404])
    async def test_request_and_config_errors_are_rejected(
        self, status: int, provider: OpenAICompatProvider, fake_openai: FakeOpenAI,
        listings: Listings,
    ) -> None:  # fmt: skip
        fake_openai.queue_error(status)

        with pytest.raises(LLMRejected) as raised:
            await provider.draft_reply(ask("Hi"), listings.tools)

        assert raised.value.status_code == status

    async def test_key_defaults_to_a_placeholder_for_local_servers(
        self, provider: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_text("Hi!")

        await provider.draft_reply(ask("Hi"), listings.tools)

        assert fake_openai.requests[0].headers["authorization"] == "Bearer not-needed"

    async def test_unreachable_server_is_unavailable(self, listings: Listings) -> None:
        with run_fake_openai() as fake:
            settings = openai_settings(fake)
        local = OpenAICompatProvider(*settings)  # the fake has stopped: connection refused

        with pytest.raises(LLMUnavailable) as raised:
            await local.draft_reply(ask("Hi"), listings.tools)
        await local.aclose()

        assert raised.value.status_code is None
