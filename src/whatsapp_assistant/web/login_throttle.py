"""Failed sign-ins counted per email and per client address (`limits`; Redis when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from whatsapp_assistant.config import Settings
from whatsapp_assistant.kit.ids import sha256_hex


class LoginThrottle:
    """Checked before a password is verified; only failures are counted."""

    def __init__(self, settings: Settings, storage: Storage, pool: ConnectionPool | None) -> None:
        window = settings.login.failure_window_seconds
        self.window_seconds = window
        self._per_email: RateLimitItem = RateLimitItemPerSecond(
            settings.login.failures_per_email, window
        )
        self._per_address: RateLimitItem = RateLimitItemPerSecond(
            settings.login.failures_per_address, window
        )
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._pool = pool

    def _keys(self, email: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        # Emails are hashed: the limiter's store (Redis) need not hold who tried to sign in.
        return [
            (self._per_email, "email", sha256_hex(email.strip().lower())),
            (self._per_address, "address", address),
        ]

    async def allows(self, email: str, address: str) -> bool:
        """False once either the email or the address used up its failures in the window.

        Checking first and counting after the password check lets concurrent guesses that are
        in flight together pass the check; their number is bounded by argon2's cost per guess.
        """
        for item, kind, value in self._keys(email, address):
            if not await self._limiter.test(item, "login-failures", kind, value):
                return False
        return True

    async def record_failure(self, email: str, address: str) -> None:
        for item, kind, value in self._keys(email, address):
            await self._limiter.hit(item, "login-failures", kind, value)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        if isinstance(self._storage, MemoryStorage) and self._storage.timer is not None:
            self._storage.timer.cancel()  # its one-shot sweep of expired counters


def make_login_throttle(settings: Settings) -> LoginThrottle:
    """Shared through Redis when REDIS_URL is set, so every web process counts the same failures."""
    if settings.redis.url is None:
        return LoginThrottle(settings, MemoryStorage(), None)
    # Our own pool, so that shutting down closes its connections (limits has no close).
    pool = ConnectionPool.from_url(settings.redis.url, socket_timeout=5)
    storage = RedisStorage(
        "async+" + settings.redis.url,
        implementation="redispy",
        key_prefix=f"{settings.login.rate_limit_prefix}:limits",
        wrap_exceptions=True,
        # limits documents connection_pool but types its options as scalars.
        connection_pool=pool,  # type: ignore[arg-type]
    )
    return LoginThrottle(settings, storage, pool)


@asynccontextmanager
async def login_throttle_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's own lifespan (FastAPI nests router lifespans), after its state."""
    throttle = make_login_throttle(app.state.app_state.settings)
    app.state.login_throttle = throttle
    try:
        yield
    finally:
        await throttle.aclose()


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
