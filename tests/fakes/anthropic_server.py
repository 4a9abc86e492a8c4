"""A fake Anthropic Messages API on 127.0.0.1 that the unmodified SDK talks to (docs/providers.md,
L8)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fakes.llm_base import (
    JSON,
    FakeLLMServer,
    FakeResponse,
    RecordedRequest,
    naive_search_arguments,
)

DEFAULT_MODEL = "claude-sonnet-5-5"

# docs/providers.md, L5: the status code alone picks the SDK's exception class; the body type is
# what the real API sends with it.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def _id(prefix: str) -> str:
    return f"{prefix}_01Fake{uuid.uuid4().hex[:20]}"


def error_response(
    status: int, message: str = "", *, error_type: str | None = None, retry_after_ms: int = 1
) -> FakeResponse:
    """The API's error envelope; retryable ones say retry-after-ms: 1 so SDK retries are fast
    (docs/providers.md, L8: retry-after-ms wins over retry-after; 0 would be ignored)."""
    kind = error_type or ERROR_TYPES.get(status, "api_error")
    body = {
        "type": "error",
        "error": {"type": kind, "message": message or f"fake {kind}"},
        "request_id": _id("req"),
    }
    headers = {"request-id": _id("req")}
    if status in (408, 409, 429) or status >= 500:
        headers |= {"retry-after-ms": str(retry_after_ms), "retry-after": "1"}
    return FakeResponse(status=status, body=body, headers=headers)


def rate_limit_response(
    status: int = 429, *, retry_after: str | None = None, retry_after_ms: str | None = None
) -> FakeResponse:
    """429 rate_limit_error or 529 overloaded_error with exactly the wait headers given
    (docs/providers.md, L9); error_response always adds a fast retry-after-ms."""
    response = error_response(status)
    headers = {"request-id": response.headers["request-id"]}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return FakeResponse(status=status, body=response.body, headers=headers)


def message_response(
    content: list[JSON], *, stop_reason: str, model: str | None = None, **extra: object
) -> FakeResponse:
    """A 200 Messages reply; `model` None echoes the request's model (filled in by the fake)."""
    body: JSON = {
        "id": _id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 1},
        **extra,
    }
    return FakeResponse(body=body, headers={"request-id": _id("req")})


def text_reply(
    text: str, *, stop_reason: str = "end_turn", thinking: str | None = None
) -> FakeResponse:
    blocks: list[JSON] = []
    if thinking is not None:
        blocks.append({"type": "thinking", "thinking": thinking, "signature": "sig-fake"})
    blocks.append({"type": "text", "text": text})
    return message_response(blocks, stop_reason=stop_reason)


def tool_use_reply(name: str, arguments: JSON, *, text: str | None = None) -> FakeResponse:
    blocks: list[JSON] = [{"type": "text", "text": text}] if text else []
    blocks.append({"type": "tool_use", "id": _id("toolu"), "name": name, "input": arguments})
    return message_response(blocks, stop_reason="tool_use")


def _blocks(message: JSON) -> list[JSON]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def last_user_text(body: JSON) -> str:
    """The text of the last user message that is not tool results."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        if isinstance(message.get("content"), str):
            return str(message["content"])
        texts = [b.get("text", "") for b in _blocks(message) if b.get("type") == "text"]
        if texts:
            return "\n".join(texts)
    return ""


def tool_results(body: JSON) -> list[str]:
    """The tool_result contents of the last message, when it is the user's tool answer."""
    messages = body.get("messages", [])
    if not messages or messages[-1].get("role") != "user":
        return []
    results = []
    for block in _blocks(messages[-1]):
        if block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = "\n".join(str(part.get("text", "")) for part in content)
            results.append(str(content))
    return results


class FakeAnthropic(FakeLLMServer):
    """POST /v1/messages with the checks of the real API that catch client bugs early."""

    def __init__(self, *, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key  # None: any key is accepted
        self._cache_prefixes: set[str] = set()

    def base_path(self) -> str:
        return ""  # the SDK appends /v1/messages itself (docs/providers.md, L1)

    # --- scripting helpers -----------------------------------------------------------------
    def queue_text(
        self, text: str, *, stop_reason: str = "end_turn", thinking: str | None = None
    ) -> None:
        self.queue_response(text_reply(text, stop_reason=stop_reason, thinking=thinking))

    def queue_tool_call(
        self, name: str, arguments: JSON, *, text: str | None = None, count: int = 1
    ) -> None:
        # Fresh ids per answer: the loop must pair each tool_result with its own tool_use.
        self.queue(lambda _body: tool_use_reply(name, arguments, text=text), count=count)

    def queue_error(self, status: int, *, count: int = 1, error_type: str | None = None) -> None:
        self.queue_response(error_response(status, error_type=error_type), count=count)

    def queue_refusal(self) -> None:
        self.queue_response(
            message_response(
                [],
                stop_reason="refusal",
                stop_details={"type": "refusal", "category": "general_harms", "explanation": None},
            )
        )

    # --- serving ---------------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> FakeResponse:
        if request.method == "GET" and request.path == "/v1/models":
            return FakeResponse(body=_models_page())
        if request.method != "POST" or request.path not in (
            "/v1/messages",
            "/v1/messages/count_tokens",
        ):
            return error_response(404, f"no route {request.method} {request.path}")
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        body = request.body
        invalid = validate_messages_request(
            body, count_tokens=request.path.endswith("count_tokens")
        )
        if invalid is not None:
            return error_response(400, invalid)
        if request.path.endswith("count_tokens"):
            return FakeResponse(body={"input_tokens": _estimate_tokens(body)})
        response = self.answer(body)
        return self._finish(response, body)

    def default_responder(self, body: JSON) -> FakeResponse | str:
        results = tool_results(body)
        if results:
            return "Here is what I found:\n" + "\n\n".join(results)
        if not body.get("tools") or (body.get("tool_choice") or {}).get("type") == "none":
            return "Hello from the fake Anthropic API."
        return tool_use_reply("search_properties", naive_search_arguments(last_user_text(body)))

    def text_response(self, text: str, body: JSON) -> FakeResponse:
        return text_reply(text)

    def _auth_problem(self, request: RecordedRequest) -> FakeResponse | None:
        headers = request.headers
        bearer = headers.get("authorization", "")
        key = headers.get("x-api-key") or (
            bearer[7:] if bearer.lower().startswith("bearer ") else ""
        )
        if not key or (self.api_key is not None and key != self.api_key):
            return error_response(401, "invalid x-api-key")
        if "anthropic-version" not in headers:
            return error_response(400, "anthropic-version: header is required")
        return None

    def _finish(self, response: FakeResponse, body: JSON) -> FakeResponse:
        """Echo the model and fill in usage, with simple prompt-cache accounting (1.8)."""
        reply = response.body
        if response.status != 200 or not isinstance(reply, dict) or reply.get("type") != "message":
            return response
        reply = dict(reply)
        reply["model"] = reply.get("model") or body.get("model")
        usage = {"input_tokens": _estimate_tokens(body), "output_tokens": 12}
        prefix, tokens = _cached_prefix(body)
        creation = read = 0
        if prefix is not None:
            with self._lock:
                seen = prefix in self._cache_prefixes
                self._cache_prefixes.add(prefix)
            read, creation = (tokens, 0) if seen else (0, tokens)
        usage |= {"cache_creation_input_tokens": creation, "cache_read_input_tokens": read}
        reply["usage"] = usage
        return FakeResponse(response.status, reply, response.headers, response.delay)


def validate_messages_request(body: JSON, *, count_tokens: bool = False) -> str | None:
    """The real API's 400s that would reveal a client bug (docs/providers.md, L8), or None."""
    if "__invalid_json__" in body:
        return "request body is not valid JSON"
    required = ("model", "messages") if count_tokens else ("model", "max_tokens", "messages")
    for name in required:
        if name not in body:
            return f"{name}: Field required"
    for name in ("temperature", "top_p", "top_k"):
        if name in body:
            # Under anthropic-version 2026-10-21 any sampling parameter is rejected (1.2).
            return f"{name}: Extra inputs are not permitted"
    if body.get("stream"):
        return "stream: this fake answers non-streaming requests only"
    if not count_tokens and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        return "max_tokens: must be at least 1"
    choice = body.get("tool_choice") or {}
    if choice.get("type") in ("any", "tool"):
        return "tool_choice: forced tool use is not supported by this model"
    return _validate_messages(body.get("messages"), has_tools=bool(body.get("tools")))


IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def sent_images(body: JSON) -> list[tuple[str, bytes]]:
    """Every base64 image block of the request's messages, as (media_type, decoded bytes)."""
    return [
        (block["source"]["media_type"], base64.b64decode(block["source"]["data"]))
        for message in body.get("messages", [])
        for block in _blocks(message)
        if block.get("type") == "image" and block["source"].get("type") == "base64"
    ]


def _validate_block(block: object, where: str) -> str | None:
    """The 400s the real API gives a malformed text or image block (llm-apis.md 1.2)."""
    if not isinstance(block, dict):
        return f"{where}: Input should be a valid dictionary"
    if block.get("type") == "text":
        text = block.get("text")
        if not isinstance(text, str) or not text:
            return f"{where}: text content blocks must be non-empty"
    if block.get("type") != "image":
        return None
    source = block.get("source")
    if not isinstance(source, dict):
        return f"{where}.source: Field required"
    if source.get("type") == "url":
        return None if isinstance(source.get("url"), str) else f"{where}.source.url: required"
    if source.get("type") != "base64":
        return f"{where}.source.type: Input should be 'base64' or 'url'"
    if source.get("media_type") not in IMAGE_MEDIA_TYPES:
        return f"{where}.source.media_type: Input should be {', '.join(IMAGE_MEDIA_TYPES)}"
    data = source.get("data")
    try:
        decoded = base64.b64decode(data, validate=True) if isinstance(data, str) else b""
    except binascii.Error:
        decoded = b""
    if not decoded:
        return f"{where}.source.data: not valid base64 image data"
    return None


def _validate_content(message: JSON, index: int) -> str | None:
    content = message.get("content")
    if isinstance(content, str):
        return None
    if not isinstance(content, list) or not content:
        return f"messages.{index}: all messages must have non-empty content"
    for number, block in enumerate(content):
        problem = _validate_block(block, f"messages.{index}.content.{number}")
        if problem is not None:
            return problem
    return None


def _validate_messages(messages: object, *, has_tools: bool) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant", "system"):
            return f"messages.{index}.role: must be user or assistant"
        problem = _validate_content(message, index)
        if problem is not None:
            return problem
        types = {block.get("type") for block in _blocks(message)}
        if types & {"tool_use", "tool_result"} and not has_tools:
            return "Requests which include `tool_use` or `tool_result` blocks must define tools."
        pending = [b["id"] for b in _blocks(message) if b.get("type") == "tool_use"]
        if not pending or message.get("role") != "assistant":
            continue
        following = messages[index + 1] if index + 1 < len(messages) else None
        if following is None:
            continue  # a trailing assistant turn is a prefill/continuation
        answered = []
        for block in _blocks(following):
            if block.get("type") != "tool_result":
                break  # tool_results must come first in the next message
            answered.append(block.get("tool_use_id"))
        if following.get("role") != "user" or sorted(answered) != sorted(pending):
            return (
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(pending)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
    return None


def _cached_prefix(body: JSON) -> tuple[str | None, int]:
    """A hash of the request up to its last cache_control breakpoint (tools, then system), and
    its size in (roughly estimated) tokens."""
    parts: list[Any] = []
    marked = None
    for tool in body.get("tools") or []:
        parts.append(tool)
        if "cache_control" in tool:
            marked = len(parts)
    system = body.get("system")
    for block in system if isinstance(system, list) else []:
        parts.append(block)
        if "cache_control" in block:
            marked = len(parts)
    if marked is None:
        return None, 0
    text = json.dumps(parts[:marked], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest(), max(len(text) // 4, 1)


def _estimate_tokens(body: JSON) -> int:
    return max(len(json.dumps(body.get("messages", []))) // 4, 1)


def _models_page() -> JSON:
    model = {
        "type": "model",
        "id": DEFAULT_MODEL,
        "display_name": "Claude Sonnet 5.5",
        "created_at": "2026-09-01T00:00:00Z",
        "lifecycle": "active",
    }
    return {"data": [model], "has_more": False, "first_id": DEFAULT_MODEL, "last_id": DEFAULT_MODEL}


@contextmanager
def run_fake_anthropic(*, api_key: str | None = None) -> Iterator[FakeAnthropic]:
    """A running fake; `.base_url` is the bare origin the SDK wants (no /v1)."""
    with FakeAnthropic(api_key=api_key) as fake:
        yield fake
