"""The fake LLM servers themselves: strict SDK parsing of their answers and their 400 checks."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import anthropic
import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.llm_base import JSON
from tests.fakes.openai_server import FakeOpenAI

USER = {"role": "user", "content": "Flats in Lisbon?"}
TOOL = {"name": "search_properties", "input_schema": {"type": "object"}}


@pytest.fixture
async def claude(fake_anthropic: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    # Strict validation raises if a fake answer drifts from the SDK's schema (docs/providers.md,
    # L8).
    client = anthropic.AsyncAnthropic(
        api_key="k", base_url=fake_anthropic.base_url, max_retries=0,
        _strict_response_validation=True,
    )  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
async def local(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        api_key="k", base_url=fake_openai.base_url, max_retries=0,
        _strict_response_validation=True,
    )  # fmt: skip
    yield client
    await client.close()


class TestFakeAnthropic:
    async def test_default_answer_calls_search_with_the_place_then_echoes_results(
        self, claude: anthropic.AsyncAnthropic
    ) -> None:
        first = await claude.messages.create(
            model="claude-sonnet-5-5", max_tokens=100, messages=[USER], tools=[TOOL]
        )
        tool_use = first.content[0]
        assert isinstance(tool_use, anthropic.types.ToolUseBlock)
        assert tool_use.input == {"location": "Lisbon"}

        second = await claude.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=100,
            tools=[TOOL],
            messages=[
                USER,
                {"role": "assistant", "content": first.content},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": tool_use.id, "content": "*Flat A*"}
                ]},
            ],
        )  # fmt: skip

        text = second.content[0]
        assert isinstance(text, anthropic.types.TextBlock)
        assert text.text == "Here is what I found:\n*Flat A*"
        assert second.model == "claude-sonnet-5-5"

    async def test_reports_cache_writes_then_reads(self, claude: anthropic.AsyncAnthropic) -> None:
        system = [{"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}}]
        usages = [
            (
                await claude.messages.create(
                    model="m",
                    max_tokens=10,
                    system=system,
                    messages=[USER],
                )
            ).usage
            for _ in range(2)
        ]

        assert usages[0].cache_creation_input_tokens and not usages[0].cache_read_input_tokens
        assert usages[1].cache_read_input_tokens and not usages[1].cache_creation_input_tokens

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"temperature": 0.2}, "temperature: Extra inputs are not permitted"),
            ({"tool_choice": {"type": "any"}, "tools": [TOOL]}, "forced tool use"),
        ],
    )
    async def test_rejects_what_the_2026_api_rejects(
        self, claude: anthropic.AsyncAnthropic, extra: dict[str, object], message: str
    ) -> None:
        with pytest.raises(anthropic.BadRequestError, match=message):
            await claude.messages.create(
                model="m", max_tokens=10, messages=[USER], extra_body=extra
            )

    async def test_rejects_a_tool_use_without_its_tool_result(
        self, claude: anthropic.AsyncAnthropic
    ) -> None:
        tool_use = {"type": "tool_use", "id": "toolu_1", "name": "search_properties", "input": {}}

        with pytest.raises(anthropic.BadRequestError, match="toolu_1"):
            await claude.messages.create(
                model="m",
                max_tokens=10,
                tools=[TOOL],
                messages=[
                    USER,
                    {"role": "assistant", "content": [tool_use]},
                    {"role": "user", "content": "and?"},
                ],
            )

    def test_missing_credentials_are_401(self, fake_anthropic: FakeAnthropic) -> None:
        # The SDK refuses to send without a key, so a raw request plays the broken client.
        response = httpx.post(
            f"{fake_anthropic.base_url}/v1/messages",
            json={"model": "m", "max_tokens": 10, "messages": [USER]},
            headers={"anthropic-version": "2026-10-21"},
        )

        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"

    async def test_529_is_overloaded_error(
        self, claude: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.queue_error(529)

        with pytest.raises(anthropic.OverloadedError):
            await claude.messages.create(model="m", max_tokens=10, messages=[USER])

    async def test_refusal_and_models_parse_strictly(
        self, claude: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic
    ) -> None:
        fake_anthropic.queue_refusal()

        refused = await claude.messages.create(model="m", max_tokens=10, messages=[USER])
        models = await claude.models.list()

        assert (refused.stop_reason, refused.content) == ("refusal", [])
        assert [model.id for model in models.data] == ["claude-sonnet-5-5"]


class TestFakeOpenAI:
    async def test_default_answer_calls_search_then_echoes_tool_messages(
        self, local: openai.AsyncOpenAI
    ) -> None:
        tools = [{"type": "function", "function": {"name": "search_properties", "parameters": {}}}]
        first = await local.chat.completions.create(model="llama3.2", messages=[USER], tools=tools)
        call = first.choices[0].message.tool_calls[0]

        second = await local.chat.completions.create(
            model="llama3.2",
            tools=tools,
            messages=[
                USER,
                first.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "*Flat A*"},
            ],
        )

        assert first.choices[0].finish_reason == "tool_calls"
        assert second.choices[0].message.content == "Here is what I found:\n*Flat A*"

    async def test_rejects_an_unanswered_tool_call(self, local: openai.AsyncOpenAI) -> None:
        call = {"id": "call_1", "type": "function",
                "function": {"name": "search_properties", "arguments": "{}"}}  # fmt: skip

        with pytest.raises(openai.BadRequestError, match="call_1"):
            await local.chat.completions.create(
                model="llama3.2",
                messages=[
                    USER,
                    {"role": "assistant", "content": None, "tool_calls": [call]},
                    {"role": "user", "content": "and?"},
                ],
            )

    async def test_errors_use_the_openai_envelope(
        self, local: openai.AsyncOpenAI, fake_openai: FakeOpenAI
    ) -> None:
        fake_openai.queue_error(429)

        with pytest.raises(openai.RateLimitError) as raised:
            await local.chat.completions.create(model="llama3.2", messages=[USER])

        assert raised.value.status_code == 429
        assert raised.value.body == {
            "message": "fake api_error", "type": "api_error", "param": None, "code": None,
        }  # fmt: skip


JPEG_B64 = base64.b64encode(b"\xff\xd8\xff\xe0fake jpeg\xff\xd9").decode()


class TestFakeAnthropicImages:
    @pytest.mark.parametrize(
        "block",
        [
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                         "data": "not base64!"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/bmp",
                                         "data": JPEG_B64}},
            {"type": "image", "data": JPEG_B64},
            {"type": "text", "text": ""},
        ],
    )  # fmt: skip
    async def test_a_malformed_block_is_the_apis_400(
        self, claude: anthropic.AsyncAnthropic, fake_anthropic: FakeAnthropic, block: JSON
    ) -> None:
        fake_anthropic.queue_text("never sent")

        with pytest.raises(anthropic.BadRequestError) as raised:
            await claude.messages.create(
                model="m", max_tokens=10, messages=[{"role": "user", "content": [block]}]
            )

        assert raised.value.status_code == 400
        assert raised.value.type == "invalid_request_error"
        assert fake_anthropic.pending == 1  # refused before any answer was played

    async def test_empty_content_is_refused(self, claude: anthropic.AsyncAnthropic) -> None:
        with pytest.raises(anthropic.BadRequestError, match="non-empty content"):
            await claude.messages.create(
                model="m", max_tokens=10, messages=[{"role": "user", "content": []}]
            )

    async def test_a_well_formed_image_block_is_answered(
        self, claude: anthropic.AsyncAnthropic
    ) -> None:
        source = {"type": "base64", "media_type": "image/jpeg", "data": JPEG_B64}

        message = await claude.messages.create(
            model="m",
            max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "image", "source": source}]}],
        )

        assert message.content


class TestFakeOpenAIImages:
    @pytest.mark.parametrize(
        "part",
        [
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,@@@"}},
            {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
            {"type": "image_url", "image_url": "data:image/jpeg;base64," + JPEG_B64},
            {"type": "image", "source": {"data": JPEG_B64}},
        ],
    )
    async def test_a_malformed_part_is_the_apis_400(
        self, local: openai.AsyncOpenAI, part: JSON
    ) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            await local.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": [part]}],  # type: ignore[list-item]
            )

        assert raised.value.status_code == 400

    async def test_a_data_url_part_is_answered(self, local: openai.AsyncOpenAI) -> None:
        url = "data:image/jpeg;base64," + JPEG_B64

        completion = await local.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
            ],
        )

        assert completion.choices[0].message.content
