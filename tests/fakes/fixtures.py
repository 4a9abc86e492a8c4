"""Pytest fixtures that start the loopback fake provider servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api


@pytest.fixture
def fake_green_api() -> Iterator[FakeGreenAPI]:
    """A fake Green API instance 1101823456 with token 'test-token', fresh for each test."""
    with run_fake_green_api() as fake:
        yield fake
