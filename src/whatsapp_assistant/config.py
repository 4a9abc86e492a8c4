"""Settings from the environment, in nested groups; the only place that reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/whatsapp-assistant.db"
# Signs session CSRF tokens; known to everyone who reads this file, so refused in production.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"  # noqa: S105 - the refused default


class LLMSettings(BaseModel):
    provider: Literal["anthropic", "openai", "offline"] | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-sonnet-5-5"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    max_tokens: int = 1024
    timeout_seconds: float = 60.0
    max_retries: int = 2
    max_tool_rounds: int = 4
    history_messages: int = 20
    # Outages past the SDK's own retries: tried again this many times, then the agent takes over.
    outage_retries: int = 2
    outage_backoff_seconds: float = 2.0

    @property
    def effective_provider(self) -> str:
        """Anthropic when a key is set and nothing else was asked for; offline otherwise."""
        if self.provider is not None:
            return self.provider
        return "anthropic" if self.anthropic_api_key else "offline"


class GreenAPISettings(BaseModel):
    default_api_url: str = "https://api.green-api.com"
    timeout_seconds: float = 15.0
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    sends_per_second: float = 20.0


class Settings(BaseSettings):
    """Flat environment names (DATABASE_URL, LLM_PROVIDER, ...) mapped onto groups below."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = DEFAULT_SQLITE_URL
    redis_url: str | None = None
    # Redis channel names start with this, so several deployments (or test runs) share a server.
    redis_prefix: str = Field(default="wa", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    public_base_url: str = "http://127.0.0.1:8000"
    reply_debounce_seconds: float = Field(default=3.0, ge=0, le=120)
    run_worker_in_process: bool = True
    # Recovery re-derives lost work from the rows this often (and at every start-up).
    recovery_every_seconds: int = Field(default=60, ge=1, le=3600)
    # A worker silent for this long is dead: its jobs are retried by another one.
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)
    stalled_after_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Waits before each further try of a send that failed in a way that may pass (after the
    # client's own quick retries); past the last one the message is marked failed.
    send_retry_delays_seconds: tuple[float, ...] = (5.0, 30.0, 120.0)
    # A send left 'sending' this long without an echo from the provider is tried again.
    sending_stale_after_seconds: float = Field(default=120.0, gt=0, le=86400)
    max_webhook_bytes: int = 256 * 1024

    secret_key: str = DEV_SECRET_KEY
    # None: Secure cookies exactly when PUBLIC_BASE_URL is https.
    secure_cookies: bool | None = None
    session_max_age_days: int = Field(default=30, ge=1, le=365)
    # A session unused this long is over, even before its max age.
    session_idle_days: int = Field(default=7, ge=1, le=365)
    login_failures_per_email: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Namespaces the rate-limit keys in a shared Redis.
    rate_limit_prefix: str = Field(default="whatsapp-assistant", min_length=1)

    llm_provider: Literal["anthropic", "openai", "offline"] | None = None
    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-sonnet-5-5"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 60.0
    llm_max_retries: int = 2
    llm_outage_retries: int = Field(default=2, ge=0, le=10)
    llm_outage_backoff_seconds: float = Field(default=2.0, ge=0, le=300)

    green_api_url: str = "https://api.green-api.com"
    green_api_timeout_seconds: float = 15.0
    green_api_max_attempts: int = 4
    green_api_backoff_seconds: float = 0.5

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError("set SECRET_KEY to a random value of 32+ characters in production")
        return self

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_base_url.startswith("https://")

    @property
    def llm(self) -> LLMSettings:
        return LLMSettings(
            provider=self.llm_provider,
            anthropic_api_key=self.anthropic_api_key,
            anthropic_base_url=self.anthropic_base_url,
            anthropic_model=self.anthropic_model,
            openai_api_key=self.openai_api_key,
            openai_base_url=self.openai_base_url,
            openai_model=self.openai_model,
            timeout_seconds=self.llm_timeout_seconds,
            max_retries=self.llm_max_retries,
            outage_retries=self.llm_outage_retries,
            outage_backoff_seconds=self.llm_outage_backoff_seconds,
        )

    @property
    def green_api(self) -> GreenAPISettings:
        return GreenAPISettings(
            default_api_url=self.green_api_url,
            timeout_seconds=self.green_api_timeout_seconds,
            max_attempts=self.green_api_max_attempts,
            backoff_seconds=self.green_api_backoff_seconds,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The file behind a sqlite URL, so its folder can be created before first use."""
        if not self.is_sqlite:
            return None
        _, _, path = self.database_url.partition(":///")
        return None if path in ("", ":memory:") else Path(path)


def load_settings() -> Settings:
    return Settings()
