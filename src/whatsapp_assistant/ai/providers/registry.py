"""The one list of LLM providers: a name and a factory each; make_provider picks from settings."""

from __future__ import annotations

from collections.abc import Callable

from whatsapp_assistant.ai.errors import LLMRejected
from whatsapp_assistant.ai.providers.anthropic import AnthropicProvider
from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.ai.providers.offline import OfflineProvider
from whatsapp_assistant.ai.providers.openai_compat import OpenAICompatProvider
from whatsapp_assistant.config import LLMSettings

ProviderFactory = Callable[[LLMSettings], LLMProvider]

PROVIDERS: dict[str, ProviderFactory] = {
    "anthropic": AnthropicProvider,
    "openai": OpenAICompatProvider,
    "offline": OfflineProvider,
}


def make_provider(settings: LLMSettings) -> LLMProvider:
    """Anthropic when ANTHROPIC_API_KEY is set and nothing else was asked for; offline otherwise."""
    name = settings.effective_provider
    factory = PROVIDERS.get(name)
    if factory is None:
        raise LLMRejected(f"unknown LLM provider {name!r}")
    return factory(settings)
