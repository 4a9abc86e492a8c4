"""Pytest fixtures that start the loopback fake provider servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.green_api import FakeGreenAPI, run_fake_green_api
from tests.fakes.meta_graph import FakeMetaGraph, run_fake_meta_graph


@pytest.fixture
def fake_green_api() -> Iterator[FakeGreenAPI]:
    """A fake Green API instance 1101823456 with token 'test-token', fresh for each test."""
    with run_fake_green_api() as fake:
        yield fake


@pytest.fixture
def fake_meta_graph() -> Iterator[FakeMetaGraph]:
    """A fake Graph for business number 112233445566778 behind one access token, fresh for
    each test."""
    with run_fake_meta_graph() as fake:
        yield fake
