"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1 for the openai SDK (3.3)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.fakes.llm_base import (
    JSON,
    FakeLLMServer,
    FakeResponse,
    RecordedRequest,
    naive_search_arguments,
)

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}


def error_response(status: int, message: str = "", *, retry_after_ms: int = 1) -> FakeResponse:
    """Ollama/OpenAI error shape (docs/providers.md, L5); fast retries through retry-after-ms."""
    kind = ERROR_TYPES.get(status, "api_error")
    body = {
        "error": {"message": message or f"fake {kind}", "type": kind, "param": None, "code": None}
    }
    headers = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}"}
    if status in (408, 409, 429) or status >= 500:
        headers["retry-after-ms"] = str(retry_after_ms)
    return FakeResponse(status=status, body=body, headers=headers)


def rate_limit_response(
    *, retry_after: str | None = None, retry_after_ms: str | None = None
) -> FakeResponse:
    """429 with exactly the wait headers given (docs/providers.md, L9)."""
    response = error_response(429)
    headers = {"x-request-id": response.headers["x-request-id"]}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return FakeResponse(status=429, body=response.body, headers=headers)


def completion_response(
    message: JSON, *, finish_reason: str, model: str | None = None
) -> FakeResponse:
    body: JSON = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    return FakeResponse(body=body)


def text_reply(text: str, *, finish_reason: str = "stop") -> FakeResponse:
    return completion_response({"content": text}, finish_reason=finish_reason)


def tool_call_reply(name: str, arguments: JSON | str) -> FakeResponse:
    """`arguments` as a dict is JSON-encoded, as the API does; a str is sent verbatim."""
    encoded = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": encoded},
    }
    return completion_response({"content": None, "tool_calls": [call]}, finish_reason="tool_calls")


def tool_results(body: JSON) -> list[str]:
    """Contents of the trailing role=tool messages (the answers to the last tool calls)."""
    results: list[str] = []
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "tool":
            break
        results.insert(0, str(message.get("content")))
    return results


def last_user_text(body: JSON) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


class FakeOpenAI(FakeLLMServer):
    def base_path(self) -> str:
        return "/v1"  # the client base URL includes /v1 (docs/providers.md, L1)

    def queue_text(self, text: str, *, finish_reason: str = "stop") -> None:
        self.queue_response(text_reply(text, finish_reason=finish_reason))

    def queue_tool_call(self, name: str, arguments: JSON | str, *, count: int = 1) -> None:
        self.queue(lambda _body: tool_call_reply(name, arguments), count=count)

    def queue_error(self, status: int, *, count: int = 1) -> None:
        self.queue_response(error_response(status), count=count)

    def route(self, request: RecordedRequest) -> FakeResponse:
        if request.method == "GET" and request.path == "/v1/models":
            model = {
                "id": "llama3.2",
                "object": "model",
                "created": 1764000000,
                "owned_by": "library",
            }
            return FakeResponse(body={"object": "list", "data": [model]})
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return error_response(404, f"no route {request.method} {request.path}")
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return error_response(401, "missing bearer token")
        invalid = validate_chat_request(request.body)
        if invalid is not None:
            return error_response(400, invalid)
        response = self.answer(request.body)
        reply = response.body
        if response.status == 200 and isinstance(reply, dict) and reply.get("model") is None:
            reply = reply | {"model": request.body.get("model")}
            return FakeResponse(response.status, reply, response.headers, response.delay)
        return response

    def default_responder(self, body: JSON) -> FakeResponse | str:
        results = tool_results(body)
        if results:
            return "Here is what I found:\n" + "\n\n".join(results)
        if not body.get("tools") or body.get("tool_choice") == "none":
            return "Hello from the fake OpenAI-compatible server."
        return tool_call_reply("search_properties", naive_search_arguments(last_user_text(body)))

    def text_response(self, text: str, body: JSON) -> FakeResponse:
        return text_reply(text)


_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.+)$", re.DOTALL)


def sent_images(body: JSON) -> list[tuple[str, bytes]]:
    """Every data-URL image part of the request's messages, as (mime, decoded bytes)."""
    found: list[tuple[str, bytes]] = []
    for message in body.get("messages", []):
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            match = _DATA_URL.match(str((part.get("image_url") or {}).get("url", "")))
            if part.get("type") == "image_url" and match:
                found.append((match.group(1), base64.b64decode(match.group(2))))
    return found


def _validate_part(part: object, where: str) -> str | None:
    """What OpenAI answers 400 for in a content part (llm-apis.md 2.2)."""
    if not isinstance(part, dict):
        return f"{where}: must be an object"
    if part.get("type") == "text":
        return None if isinstance(part.get("text"), str) else f"{where}.text is required"
    if part.get("type") != "image_url":
        return f"{where}.type: must be text or image_url"
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        return f"{where}.image_url.url is required"
    if url.startswith(("http://", "https://")):
        return None
    match = _DATA_URL.match(url)
    try:
        decoded = base64.b64decode(match.group(2), validate=True) if match else b""
    except binascii.Error:
        decoded = b""
    if not decoded:
        return f"{where}.image_url.url: Invalid image URL; expected a data URL or http(s)"
    return None


def _validate_content(message: JSON, index: int) -> str | None:
    content = message.get("content")
    if not isinstance(content, list):
        return None
    if not content:
        return f"messages[{index}].content must not be an empty array"
    for number, part in enumerate(content):
        problem = _validate_part(part, f"messages[{index}].content[{number}]")
        if problem is not None:
            return problem
    return None


def validate_chat_request(body: JSON) -> str | None:
    """Client bugs a real server would reject: missing fields, unanswered or stray tool calls."""
    if "__invalid_json__" in body:
        return "request body is not valid JSON"
    for name in ("model", "messages"):
        if name not in body:
            return f"{name} is required"
    if body.get("stream"):
        return "this fake answers non-streaming requests only"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    open_ids: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return f"messages[{index}].role is invalid"
        problem = _validate_content(message, index)
        if problem is not None:
            return problem
        if role == "tool":
            if message.get("tool_call_id") not in open_ids:
                return f"messages[{index}]: tool message without a matching tool call"
            open_ids.discard(message["tool_call_id"])
            continue
        if open_ids:
            return f"messages[{index}]: tool calls {sorted(open_ids)} were not answered"
        if role == "assistant":
            open_ids = {call["id"] for call in message.get("tool_calls") or []}
    return None


@contextmanager
def run_fake_openai() -> Iterator[FakeOpenAI]:
    """A running fake; `.base_url` ends in /v1 like Ollama's and vLLM's."""
    with FakeOpenAI() as fake:
        yield fake
