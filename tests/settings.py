"""Test settings changed by their environment names: `tuned(s, llm_provider="anthropic")`.

The names are the ones the environment uses (group, "_", field), so a test reads like the
configuration table in the README; an unknown name fails instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from whatsapp_assistant.config import Settings


def _place(name: str) -> tuple[str | None, str]:
    if name in Settings.model_fields:
        return None, name
    for group, field in Settings.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        prefix = f"{group}_"
        if name.startswith(prefix) and name[len(prefix) :] in model.model_fields:
            return group, name[len(prefix) :]
    raise KeyError(f"no setting is called {name.upper()}")


def tuned(settings: Settings, **changes: Any) -> Settings:
    """A validated copy of `settings` with `changes` applied."""
    data = settings.model_dump()
    for name, value in changes.items():
        group, field = _place(name)
        if group is None:
            data[field] = value
        else:
            data[group][field] = value
    return Settings.model_validate(data)


def defaults() -> Settings:
    """The defaults alone, whatever this machine's environment holds."""
    return Settings.model_validate({})
