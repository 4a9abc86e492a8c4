"""A throwaway PostgreSQL database next to the one an admin URL names, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def scratch_postgres_database(admin_url: str, prefix: str = "wa_test") -> Iterator[str]:
    """Yields the new database's URL; it is dropped (connections forced out) on the way out."""
    base, _, _ = admin_url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
