"""The bounded tool loop, written once: providers make single calls, this decides what follows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from whatsapp_assistant.ai.language import Language, as_language, detect_language
from whatsapp_assistant.ai.tools import (
    HANDOFF_TO_HUMAN,
    ToolOutcome,
    ToolRunner,
    parse_handoff,
    run_tool,
)
from whatsapp_assistant.ai.types import Handoff, ReplyDraft, ReplyRequest, ToolCall

logger = logging.getLogger(__name__)

Finish = Literal["end", "tool_use", "max_tokens", "refusal", "pause"]

REFUSAL = Handoff(reason="other", detail="model refused")

_FOLLOW_UP: dict[Language, str] = {
    "en": "Thanks for your message! {agent} will get back to you personally very soon.",
    "es": "¡Gracias por tu mensaje! {agent} te responderá personalmente muy pronto.",
    "pt": "Obrigado pela sua mensagem! {agent} vai responder-lhe pessoalmente muito em breve.",
}


@dataclass(frozen=True)
class ToolRequest:
    """A tool call the model asked for; `argument_error` when its arguments were not JSON."""

    id: str
    name: str
    arguments: dict[str, object]
    argument_error: str | None = None


@dataclass(frozen=True)
class ModelStep:
    """One model answer, reduced to what the loop needs."""

    text: str
    finish: Finish
    tool_requests: tuple[ToolRequest, ...] = ()


@dataclass(frozen=True)
class ToolReply:
    request: ToolRequest
    outcome: ToolOutcome


class Exchange(Protocol):
    """One conversation with one provider, kept in that provider's wire format.

    `call` sends the transcript, appends the model's answer to it unchanged and returns the
    answer; `add_tool_results` appends one result per requested tool call.
    """

    async def call(self, *, allow_tools: bool) -> ModelStep: ...

    def add_tool_results(self, results: Sequence[ToolReply]) -> None: ...


@dataclass
class _Loop:
    request: ReplyRequest
    provider: str
    model: str
    calls: list[ToolCall]

    def draft(self, text: str, handoff: Handoff | None = None) -> ReplyDraft:
        return ReplyDraft(
            text=text.strip(),
            provider=self.provider,
            model=self.model,
            tool_calls=list(self.calls),
            handoff=handoff,
        )

    def final(self, step: ModelStep) -> ReplyDraft | None:
        """The draft this step ends the loop with, or None when tools must run first."""
        if step.finish == "refusal":
            return self.draft("", REFUSAL)
        handoff = next((r for r in step.tool_requests if r.name == HANDOFF_TO_HUMAN), None)
        if handoff is not None:
            self.calls.append(ToolCall(handoff.name, handoff.arguments, ""))
            return self.draft(step.text, parse_handoff(handoff.arguments))
        if step.finish == "pause":
            return None
        if step.finish == "max_tokens":
            # Cut output: tool arguments may be partial, so keep only the text, trimmed.
            return self.draft(trim_cut_text(step.text) or follow_up_text(self.request))
        if step.tool_requests:
            return None
        return self.draft(step.text or follow_up_text(self.request))


async def _run_requested(tools: ToolRunner, request: ToolRequest) -> ToolOutcome:
    if request.argument_error is not None:
        return ToolOutcome(request.argument_error, is_error=True)
    return await run_tool(tools, request.name, request.arguments)


async def draft_with_tools(
    exchange: Exchange,
    request: ReplyRequest,
    tools: ToolRunner,
    *,
    max_rounds: int,
    provider: str,
    model: str,
) -> ReplyDraft:
    """Call, run the requested tools, call again, at most `max_rounds` times with tools; then
    one last call with tools switched off, or a safe follow-up text if the model still insists."""
    loop = _Loop(request=request, provider=provider, model=model, calls=[])
    for _ in range(max(max_rounds, 0)):
        step = await exchange.call(allow_tools=True)
        done = loop.final(step)
        if done is not None:
            return done
        if step.finish == "pause":
            continue  # the answer is already in the transcript; calling again resumes it
        replies = [ToolReply(r, await _run_requested(tools, r)) for r in step.tool_requests]
        loop.calls.extend(
            ToolCall(r.request.name, r.request.arguments, r.outcome.text, r.outcome.is_error)
            for r in replies
        )
        exchange.add_tool_results(replies)
    logger.info("tool round limit reached", extra={"provider": provider, "rounds": max_rounds})
    step = await exchange.call(allow_tools=False)
    done = loop.final(step)
    if done is None or (step.tool_requests and done.handoff is None):
        return loop.draft(follow_up_text(request))
    return done


def follow_up_text(request: ReplyRequest) -> str:
    """A safe reply in the customer's language that promises only the agent's follow-up."""
    latest = next((t.text for t in reversed(request.history) if t.role == "user"), "")
    language = as_language(request.language) or detect_language(
        latest, default=request.persona.default_language
    )
    agent = request.persona.agent_name.strip() or {"en": "The agent", "es": "El agente"}.get(
        language, "O agente"
    )
    return _FOLLOW_UP[language].format(agent=agent)


def trim_cut_text(text: str) -> str:
    """Text cut by max_tokens, ended at its last full sentence or line: a dropped half-sentence
    reads better than a broken one. Without any, the cut is marked with an ellipsis."""
    text = text.strip()
    cut = max(text.rfind(mark) for mark in (".", "!", "?", "\n"))
    if cut > 0:
        return text[: cut + 1].strip()
    return f"{text}…" if text else ""
