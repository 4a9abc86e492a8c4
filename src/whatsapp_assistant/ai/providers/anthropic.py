"""Claude through the official anthropic SDK (2.x): one Messages call per step of the tool loop."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Literal

import anthropic
from anthropic.types import (
    ImageBlockParam,
    Message,
    MessageParam,
    TextBlock,
    TextBlockParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlock,
)

from whatsapp_assistant.ai.agent import Finish, ModelStep, ToolReply, ToolRequest, draft_with_tools
from whatsapp_assistant.ai.errors import LLMError, LLMRejected, error_for_status, rate_limited
from whatsapp_assistant.ai.prompt import build_messages, build_system_prompt
from whatsapp_assistant.ai.tools import TOOLS, ToolRunner
from whatsapp_assistant.ai.types import ReplyDraft, ReplyRequest, ToolSpec, Turn
from whatsapp_assistant.config import AnthropicSettings, LLMSettings

logger = logging.getLogger(__name__)

# docs/providers.md, L3: pause_turn means "send the answer back unchanged to continue"; a full
# context window reads like a cut answer.
_FINISH: dict[str, Finish] = {
    "end_turn": "end",
    "stop_sequence": "end",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
    "pause_turn": "pause",
}


def anthropic_tools(specs: Sequence[ToolSpec]) -> list[ToolParam]:
    tools: list[ToolParam] = [
        {"name": spec.name, "description": spec.description, "input_schema": spec.parameters}
        for spec in specs
    ]
    if tools:
        # One breakpoint on the last tool caches every tool definition (docs/providers.md, L7).
        tools[-1]["cache_control"] = {"type": "ephemeral"}
    return tools


# 429 rate_limit_error and 529 overloaded_error: the API asks us to slow down; not the tier's
# monthly spend cap, also a 429, which waiting minutes will not lift (docs/providers.md, L9).
_SLOW_DOWN = frozenset({429, 529})
_SPEND_CAP = "enforced_spend_limit_reached"


def translate_error(error: anthropic.APIError) -> LLMError:
    """By class, HTTP status and the body's stable error code, never by message text
    (docs/providers.md, L5)."""
    if isinstance(error, anthropic.APIStatusError):
        if error.status_code in _SLOW_DOWN and error.error_code != _SPEND_CAP:
            return rate_limited("Anthropic", error.status_code, error.response.headers)
        return error_for_status("Anthropic", error.status_code)
    if isinstance(error, anthropic.APIConnectionError):  # APITimeoutError included
        return error_for_status("Anthropic", None)
    return error_for_status("Anthropic", 502)  # a response the SDK could not read


def read_step(message: Message) -> ModelStep:
    # content[0] is not necessarily text: thinking blocks may come first (docs/providers.md, L3).
    texts = [block.text for block in message.content if isinstance(block, TextBlock)]
    requests = tuple(
        ToolRequest(id=block.id, name=block.name, arguments=dict(block.input))
        for block in message.content
        if isinstance(block, ToolUseBlock)
    )
    finish = _FINISH.get(message.stop_reason or "end_turn", "end")
    return ModelStep(text="\n\n".join(texts).strip(), finish=finish, tool_requests=requests)


def user_content(turn: Turn) -> str | list[ImageBlockParam | TextBlockParam]:
    """A customer turn: its text as it always was, or with pictures each a base64 image block
    before the text (llm-apis.md 1.2). An empty text block is a 400, so a picture alone goes
    without one."""
    if not turn.images:
        return turn.text
    blocks: list[ImageBlockParam | TextBlockParam] = [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": _media_type(image.mime),
                "data": base64.b64encode(image.data).decode("ascii"),
            },
        }
        for image in turn.images
    ]
    if turn.text.strip():
        blocks.append({"type": "text", "text": turn.text})
    return blocks


_MediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
_MEDIA_TYPES: dict[str, _MediaType] = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
}


def _media_type(mime: str) -> _MediaType:
    media_type = _MEDIA_TYPES.get(mime.split(";")[0].strip().lower())
    if media_type is None:
        # The Messages API takes these four only; the caller keeps other files out of a Turn.
        raise LLMRejected(f"the Anthropic API cannot read a picture of type {mime!r}")
    return media_type


class AnthropicExchange:
    """The transcript of one reply in Messages API form."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        settings: LLMSettings,
        request: ReplyRequest,
        *,
        model: str,
    ) -> None:
        self._client = client
        self._model = model
        self._max_tokens = settings.max_tokens
        # The system prompt is the cached prefix after the tools (docs/providers.md, L7).
        self._system: list[TextBlockParam] = [
            {
                "type": "text",
                "text": build_system_prompt(
                    request.persona,
                    language=request.language,
                    pinned=request.language_pinned,
                    task=request.task,
                ),
                "cache_control": {"type": "ephemeral"},
            }
        ]
        self._tools = anthropic_tools(TOOLS)
        self._messages: list[MessageParam] = []
        for turn in build_messages(request, limit=settings.history_messages):
            if turn.role == "user":
                self._messages.append({"role": "user", "content": user_content(turn)})
            else:
                self._messages.append({"role": "assistant", "content": turn.text})

    async def call(self, *, allow_tools: bool) -> ModelStep:
        # Never temperature/top_p/top_k: API 2026-10-21 answers 400 (docs/providers.md, L2). Never a
        # forced tool_choice: Sonnet 5.5 answers 400 (1.4). "none" only switches tools off; the
        # tools stay listed because the transcript already holds tool_use blocks.
        try:
            message = await self._client.messages.create(
                model=self._model,
                max_tokens=self._max_tokens,
                system=self._system,
                tools=self._tools,
                messages=self._messages,
                tool_choice=anthropic.omit if allow_tools else {"type": "none"},
            )
        except anthropic.APIError as error:
            raise translate_error(error) from error
        logger.debug("anthropic usage", extra={"usage": message.usage.to_dict()})
        if message.content:
            # Sent back unchanged, thinking blocks included (docs/providers.md, L4).
            self._messages.append({"role": "assistant", "content": message.content})
        return read_step(message)

    def add_tool_results(self, results: Sequence[ToolReply]) -> None:
        # One user message that starts with one tool_result per tool_use id (docs/providers.md, L4).
        blocks: list[ToolResultBlockParam] = [
            {
                "type": "tool_result",
                "tool_use_id": reply.request.id,
                "content": reply.outcome.text,
                "is_error": reply.outcome.is_error,
            }
            for reply in results
        ]
        self._messages.append({"role": "user", "content": blocks})


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, settings: LLMSettings, account: AnthropicSettings) -> None:
        if not account.api_key:
            raise LLMRejected("the anthropic provider needs ANTHROPIC_API_KEY")
        self.model = account.model
        self._settings = settings
        # base_url None lets the SDK use its default or ANTHROPIC_BASE_URL (docs/providers.md, L1).
        self._client = anthropic.AsyncAnthropic(
            api_key=account.api_key,
            base_url=account.base_url or None,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    async def draft_reply(self, request: ReplyRequest, tools: ToolRunner) -> ReplyDraft:
        return await draft_with_tools(
            AnthropicExchange(self._client, self._settings, request, model=self.model),
            request,
            tools,
            max_rounds=self._settings.max_tool_rounds,
            provider=self.name,
            model=self.model,
        )

    async def aclose(self) -> None:
        await self._client.close()
