"""The one list of LLM providers: a name and a factory each; make_provider picks from settings.

The SDK-backed providers are imported when chosen: importing `anthropic` and `openai` costs
about two seconds, which every CLI command and the offline default would pay for nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from whatsapp_assistant.ai.errors import LLMRejected
from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.ai.providers.offline import OfflineProvider
from whatsapp_assistant.config import Settings

ProviderFactory = Callable[[Settings], LLMProvider]


def _anthropic(settings: Settings) -> LLMProvider:
    from whatsapp_assistant.ai.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings.llm, settings.anthropic)


def _openai(settings: Settings) -> LLMProvider:
    from whatsapp_assistant.ai.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(settings.llm, settings.openai)


def _offline(settings: Settings) -> LLMProvider:
    return OfflineProvider(settings.llm)


PROVIDERS: dict[str, ProviderFactory] = {
    "anthropic": _anthropic,
    "openai": _openai,
    "offline": _offline,
}


def make_provider(settings: Settings) -> LLMProvider:
    """Anthropic when ANTHROPIC_API_KEY is set and nothing else was asked for; offline otherwise."""
    name = settings.effective_provider
    factory = PROVIDERS.get(name)
    if factory is None:
        raise LLMRejected(f"unknown LLM provider {name!r}")
    return factory(settings)
