"""Pytest fixtures for the fake LLM servers (registered in tests/conftest.py via pytest_plugins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropic, run_fake_anthropic
from tests.fakes.openai_server import FakeOpenAI, run_fake_openai
from tests.fakes.transcription_server import FakeTranscription, run_fake_transcription


@pytest.fixture
def fake_anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    # httpx2 honours HTTP(S)_PROXY and does not exempt loopback by itself (docs/providers.md, L8).
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with run_fake_anthropic() as fake:
        yield fake


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with run_fake_openai() as fake:
        yield fake


@pytest.fixture
def fake_transcription(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTranscription]:
    """An OpenAI-compatible transcription endpoint that wants the key 'transcribe-key'."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with run_fake_transcription(api_key="transcribe-key") as fake:
        yield fake
