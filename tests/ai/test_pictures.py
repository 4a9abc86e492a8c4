"""The customer's pictures reach Claude and OpenAI-compatible models through the real SDKs."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from tests.ai.conftest import PERSONA, Listings, anthropic_settings, openai_settings
from tests.fakes import anthropic_server, openai_server
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from whatsapp_assistant.ai.errors import LLMRejected
from whatsapp_assistant.ai.providers.anthropic import AnthropicProvider
from whatsapp_assistant.ai.providers.openai_compat import OpenAICompatProvider
from whatsapp_assistant.ai.types import ImagePart, ReplyRequest, Turn

# A JPEG's start and end markers around every byte value: any mangling shows in the compare.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1))


def _request(*turns: Turn) -> ReplyRequest:
    return ReplyRequest(persona=PERSONA, history=list(turns))


@pytest.fixture
async def claude(fake_anthropic: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(*anthropic_settings(fake_anthropic))
    yield provider
    await provider.aclose()


@pytest.fixture
async def local(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatProvider]:
    provider = OpenAICompatProvider(*openai_settings(fake_openai))
    yield provider
    await provider.aclose()


class TestAnthropicPictures:
    async def test_a_jpeg_goes_as_a_base64_image_block_before_the_text(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_text("A lovely balcony.")
        turn = Turn("user", "Is this flat still free?", (ImagePart("image/jpeg", JPEG),))

        draft = await claude.draft_reply(_request(turn), listings.tools)

        assert draft.text == "A lovely balcony."
        image, text = fake_anthropic.last_body["messages"][-1]["content"]
        assert image["type"] == "image"
        assert image["source"]["type"] == "base64"
        assert image["source"]["media_type"] == "image/jpeg"
        assert base64.b64decode(image["source"]["data"]) == JPEG
        assert text == {"type": "text", "text": "Is this flat still free?"}

    async def test_a_picture_alone_is_accepted_without_a_text_block(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_text("Thanks for the photo.")
        turn = Turn("user", "", (ImagePart("image/png", PNG), ImagePart("image/jpeg", JPEG)))

        draft = await claude.draft_reply(_request(turn), listings.tools)

        assert draft.text == "Thanks for the photo."
        content = fake_anthropic.last_body["messages"][-1]["content"]
        assert [block["type"] for block in content] == ["image", "image"]
        assert anthropic_server.sent_images(fake_anthropic.last_body) == [
            ("image/png", PNG),
            ("image/jpeg", JPEG),
        ]

    async def test_a_burst_of_a_picture_then_a_question_is_one_turn_with_both(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_text("Yes.")
        history = [Turn("user", "", (ImagePart("image/jpeg", JPEG),)), Turn("user", "This one?")]

        await claude.draft_reply(_request(*history), listings.tools)

        [message] = fake_anthropic.last_body["messages"]
        assert [block["type"] for block in message["content"]] == ["image", "text"]
        assert message["content"][1]["text"] == "This one?"

    async def test_the_profile_name_note_keeps_the_picture(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_text("Hello Ana.")
        request = ReplyRequest(
            persona=PERSONA,
            history=[Turn("user", "", (ImagePart("image/jpeg", JPEG),))],
            contact_name="Ana",
        )

        await claude.draft_reply(request, listings.tools)

        image, text = fake_anthropic.last_body["messages"][-1]["content"]
        assert base64.b64decode(image["source"]["data"]) == JPEG
        assert text["text"].startswith("[WhatsApp profile name: Ana]")

    async def test_a_picture_type_claude_cannot_read_is_refused_before_any_call(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        turn = Turn("user", "Look", (ImagePart("image/heic", b"heic bytes"),))

        with pytest.raises(LLMRejected, match="image/heic"):
            await claude.draft_reply(_request(turn), listings.tools)

        assert fake_anthropic.requests == []

    async def test_a_history_without_pictures_is_sent_as_plain_strings(
        self, claude: AnthropicProvider, fake_anthropic: FakeAnthropic, listings: Listings
    ) -> None:
        fake_anthropic.queue_text("Hello!")
        history = [
            Turn("user", "Hi"),
            Turn("assistant", "Hello, how can I help?"),
            Turn("user", "Rent"),
        ]

        await claude.draft_reply(_request(*history), listings.tools)

        assert fake_anthropic.last_body["messages"] == [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "Rent"},
        ]


class TestOpenAIPictures:
    async def test_a_jpeg_goes_as_a_data_url_part_before_the_text(
        self, local: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_text("A lovely balcony.")
        turn = Turn("user", "Is this flat still free?", (ImagePart("image/jpeg", JPEG),))

        draft = await local.draft_reply(_request(turn), listings.tools)

        assert draft.text == "A lovely balcony."
        image, text = fake_openai.last_body["messages"][-1]["content"]
        assert image["type"] == "image_url"
        prefix, _, data = image["image_url"]["url"].partition(",")
        assert prefix == "data:image/jpeg;base64"
        assert base64.b64decode(data) == JPEG
        assert text == {"type": "text", "text": "Is this flat still free?"}

    async def test_a_picture_alone_is_accepted_without_a_text_part(
        self, local: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_text("Thanks for the photo.")
        turn = Turn("user", "", (ImagePart("image/png", PNG),))

        draft = await local.draft_reply(_request(turn), listings.tools)

        assert draft.text == "Thanks for the photo."
        [part] = fake_openai.last_body["messages"][-1]["content"]
        assert part["type"] == "image_url"
        assert openai_server.sent_images(fake_openai.last_body) == [("image/png", PNG)]

    async def test_a_history_without_pictures_is_sent_as_plain_strings(
        self, local: OpenAICompatProvider, fake_openai: FakeOpenAI, listings: Listings
    ) -> None:
        fake_openai.queue_text("Hello!")
        history = [
            Turn("user", "Hi"),
            Turn("assistant", "Hello, how can I help?"),
            Turn("user", "Rent"),
        ]

        await local.draft_reply(_request(*history), listings.tools)

        assert fake_openai.last_body["messages"][1:] == [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "Rent"},
        ]
