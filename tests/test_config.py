"""Configuration: one nested shape, read from the environment names the README lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from whatsapp_assistant.config import Settings

README = Path(__file__).parents[1] / "README.md"


def environment_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            names |= {f"{name}_{sub}".upper() for sub in group.model_fields}
        else:
            names.add(name.upper())
    return names


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


class TestEnvironment:
    def test_group_settings_come_from_their_environment_names(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
        monkeypatch.setenv("LLM_PROVIDER", "openai")
        monkeypatch.setenv("LLM_HISTORY_MESSAGES", "7")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setenv("GREEN_API_TIMEOUT_SECONDS", "2.5")
        monkeypatch.setenv("SEND_RETRY_DELAYS_SECONDS", "[1, 2]")
        monkeypatch.setenv("LOGIN_RATE_LIMIT_PREFIX", "agency-a")

        settings = Settings()

        assert settings.database.url == "postgresql+psycopg://u@h/db"
        assert not settings.is_sqlite
        assert (settings.llm.provider, settings.llm.history_messages) == ("openai", 7)
        assert settings.anthropic.api_key == "sk-test"
        assert settings.effective_provider == "openai"  # an explicit choice wins over a key
        assert settings.green_api.timeout_seconds == 2.5
        assert settings.send.retry_delays_seconds == (1.0, 2.0)
        assert settings.login.rate_limit_prefix == "agency-a"

    def test_a_bad_value_is_refused_with_its_name(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("REPLY_DEBOUNCE_SECONDS", "-1")

        with pytest.raises(ValidationError, match="debounce_seconds"):
            Settings()

    def test_a_key_alone_chooses_claude(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("LLM_PROVIDER", raising=False)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")

        assert Settings().effective_provider == "anthropic"


def test_the_readme_lists_every_setting_and_nothing_else() -> None:
    assert documented_names() == environment_names()
