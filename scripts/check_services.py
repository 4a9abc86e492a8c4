"""Fail loudly when the PostgreSQL or Redis server the test suite needs cannot be reached."""

from __future__ import annotations

import sys

import psycopg
import redis


def main(pg_url: str, redis_url: str) -> int:
    try:
        with psycopg.connect(
            pg_url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(f"PostgreSQL unreachable at {pg_url}: {exc}", file=sys.stderr)
        return 1
    try:
        redis.Redis.from_url(redis_url, socket_timeout=5).ping()
    except redis.RedisError as exc:
        print(f"Redis unreachable at {redis_url}: {exc}", file=sys.stderr)
        return 1
    print(f"PostgreSQL and Redis reachable ({pg_url}, {redis_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
