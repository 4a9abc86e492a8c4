"""LLMProvider: the one shape every model backend (anthropic, openai_compat, offline) has."""

from __future__ import annotations

from typing import Protocol

from whatsapp_assistant.ai.tools import ToolRunner
from whatsapp_assistant.ai.types import ReplyDraft, ReplyRequest


class LLMProvider(Protocol):
    name: str
    model: str

    async def draft_reply(self, request: ReplyRequest, tools: ToolRunner) -> ReplyDraft:
        """Draft the next reply; raises LLMUnavailable or LLMRejected (ai/errors.py)."""
        ...

    async def aclose(self) -> None: ...
