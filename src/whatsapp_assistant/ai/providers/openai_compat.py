"""Any OpenAI-compatible server (Ollama, vLLM, OpenAI) through the official openai SDK (3.x)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionContentPartImageParam,
    ChatCompletionContentPartTextParam,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)

from whatsapp_assistant.ai.agent import Finish, ModelStep, ToolReply, ToolRequest, draft_with_tools
from whatsapp_assistant.ai.errors import LLMError, error_for_status, rate_limited
from whatsapp_assistant.ai.prompt import build_messages, build_system_prompt
from whatsapp_assistant.ai.tools import TOOLS, ToolRunner
from whatsapp_assistant.ai.types import ReplyDraft, ReplyRequest, ToolSpec, Turn
from whatsapp_assistant.config import LLMSettings, OpenAISettings

_FINISH: dict[str, Finish] = {
    "stop": "end",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def openai_tools(specs: Sequence[ToolSpec]) -> list[ChatCompletionFunctionToolParam]:
    return [
        {
            "type": "function",
            "function": {
                "name": spec.name,
                "description": spec.description,
                "parameters": spec.parameters,
            },
        }
        for spec in specs
    ]


def translate_error(error: openai.APIError) -> LLMError:
    """By class and HTTP status only, never by message text (docs/providers.md, L5)."""
    if isinstance(error, openai.APIStatusError):
        if error.status_code == 429:  # RateLimitError; no 529 here (docs/providers.md, L9)
            return rate_limited("OpenAI-compatible", 429, error.response.headers)
        return error_for_status("OpenAI-compatible", error.status_code)
    if isinstance(error, openai.APIConnectionError):  # APITimeoutError included
        return error_for_status("OpenAI-compatible", None)
    return error_for_status("OpenAI-compatible", 502)  # unreadable response or stream error


def _tool_request(call: ChatCompletionMessageFunctionToolCall) -> ToolRequest:
    # function.arguments is a JSON *string* (docs/providers.md, L3); a bad one goes back as a tool
    # error.
    try:
        arguments = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        return ToolRequest(call.id, call.function.name, {}, "Arguments were not a JSON object.")
    return ToolRequest(call.id, call.function.name, {str(k): v for k, v in arguments.items()})


def _function_calls(completion: ChatCompletion) -> list[ChatCompletionMessageFunctionToolCall]:
    message = completion.choices[0].message
    return [
        call
        for call in message.tool_calls or []
        if isinstance(call, ChatCompletionMessageFunctionToolCall)
    ]


def read_step(completion: ChatCompletion) -> ModelStep:
    if not completion.choices:
        return ModelStep(text="", finish="end")
    choice = completion.choices[0]
    finish = _FINISH.get(choice.finish_reason, "end")
    if choice.message.refusal:
        finish = "refusal"
    requests = tuple(_tool_request(call) for call in _function_calls(completion))
    return ModelStep(
        text=(choice.message.content or "").strip(), finish=finish, tool_requests=requests
    )


def _echo(completion: ChatCompletion) -> ChatCompletionAssistantMessageParam:
    """The assistant message as received, for the next request (docs/providers.md, L2)."""
    message = completion.choices[0].message
    calls: list[ChatCompletionMessageFunctionToolCallParam] = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.function.name, "arguments": call.function.arguments},
        }
        for call in _function_calls(completion)
    ]
    echoed: ChatCompletionAssistantMessageParam = {"role": "assistant", "content": message.content}
    if calls:
        echoed["tool_calls"] = calls
    return echoed


ContentPart = ChatCompletionContentPartImageParam | ChatCompletionContentPartTextParam


def user_content(turn: Turn) -> str | list[ContentPart]:
    """A customer turn: its text as it always was, or with pictures each an image_url part
    holding a data URL before a text part (llm-apis.md 2.2); a picture alone has no text part."""
    if not turn.images:
        return turn.text
    parts: list[ContentPart] = [
        {
            "type": "image_url",
            "image_url": {
                "url": f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"
            },
        }
        for image in turn.images
    ]
    if turn.text.strip():
        parts.append({"type": "text", "text": turn.text})
    return parts


class OpenAIExchange:
    """The transcript of one reply in Chat Completions form."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        settings: LLMSettings,
        request: ReplyRequest,
        *,
        model: str,
    ) -> None:
        self._client = client
        self._model = model
        self._max_tokens = settings.max_tokens
        self._tools = openai_tools(TOOLS)
        self._messages: list[ChatCompletionMessageParam] = [
            {
                "role": "system",
                "content": build_system_prompt(
                    request.persona,
                    language=request.language,
                    pinned=request.language_pinned,
                    task=request.task,
                ),
            }
        ]
        for turn in build_messages(request, limit=settings.history_messages):
            if turn.role == "user":
                self._messages.append({"role": "user", "content": user_content(turn)})
            else:
                self._messages.append({"role": "assistant", "content": turn.text})

    async def call(self, *, allow_tools: bool) -> ModelStep:
        # max_tokens rather than max_completion_tokens: the one Ollama and vLLM both read
        # (docs/providers.md, L2). No sampling parameters: the server's defaults apply.
        try:
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=self._messages,
                tools=self._tools,
                tool_choice="auto" if allow_tools else "none",
                max_tokens=self._max_tokens,
            )
        except openai.APIError as error:
            raise translate_error(error) from error
        if completion.choices:
            self._messages.append(_echo(completion))
        return read_step(completion)

    def add_tool_results(self, results: Sequence[ToolReply]) -> None:
        for reply in results:
            text = reply.outcome.text
            # Chat Completions has no is_error flag; the text says it instead.
            content = f"ERROR: {text}" if reply.outcome.is_error else text
            self._messages.append(
                {"role": "tool", "tool_call_id": reply.request.id, "content": content}
            )


class OpenAICompatProvider:
    name = "openai"

    def __init__(self, settings: LLMSettings, account: OpenAISettings) -> None:
        self.model = account.model
        self._settings = settings
        # Local servers ignore the key, but the SDK refuses to start without one (2.1).
        self._client = openai.AsyncOpenAI(
            base_url=account.base_url,
            api_key=account.api_key or "not-needed",
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    async def draft_reply(self, request: ReplyRequest, tools: ToolRunner) -> ReplyDraft:
        return await draft_with_tools(
            OpenAIExchange(self._client, self._settings, request, model=self.model),
            request,
            tools,
            max_rounds=self._settings.max_tool_rounds,
            provider=self.name,
            model=self.model,
        )

    async def aclose(self) -> None:
        await self._client.close()
