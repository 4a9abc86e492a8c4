"""The one list of channel providers: a name to a factory, no discovery."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from whatsapp_assistant.channels.base import ChannelAdapter
from whatsapp_assistant.channels.errors import PayloadError
from whatsapp_assistant.channels.green_api.adapter import GreenAPIAdapter
from whatsapp_assistant.channels.meta_cloud.adapter import MetaCloudAdapter
from whatsapp_assistant.channels.simulator.adapter import SimulatorAdapter
from whatsapp_assistant.config import Settings

ChannelRegistry = Mapping[str, ChannelAdapter]

_FACTORIES: dict[str, Callable[[Settings], ChannelAdapter]] = {
    "green_api": lambda settings: GreenAPIAdapter(settings.green_api),
    "meta_cloud": lambda settings: MetaCloudAdapter(settings.meta_cloud),
    "simulator": lambda _settings: SimulatorAdapter(),
}

CHANNEL_TYPES = tuple(_FACTORIES)


def make_registry(settings: Settings) -> dict[str, ChannelAdapter]:
    return {name: factory(settings) for name, factory in _FACTORIES.items()}


def adapter_for(registry: ChannelRegistry, channel_type: str) -> ChannelAdapter:
    try:
        return registry[channel_type]
    except KeyError:
        raise PayloadError(f"unknown channel type {channel_type!r}") from None


async def close_registry(registry: ChannelRegistry) -> None:
    for adapter in registry.values():
        await adapter.aclose()
