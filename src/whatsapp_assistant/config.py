"""Settings from the environment, in nested groups; the only place that reads os.environ.

One shape: each group is a model, and its environment names are the group's name, "_", and the
field's name (`LLM_PROVIDER` is `llm.provider`, `GREEN_API_TIMEOUT_SECONDS` is
`green_api.timeout_seconds`). pydantic-settings matches the group by its name as a prefix and
splits no further (`env_nested_max_split=1`), so group and field names may hold underscores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/whatsapp-assistant.db"
# Signs session CSRF tokens; known to everyone who reads this file, so refused in production.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"  # noqa: S105 - the refused default

ProviderName = Literal["anthropic", "openai", "offline"]
# Job queues, each worked with its own concurrency (docs/architecture.md, invariant 9).
QueueName = Literal["send", "reply", "scheduled", "maintenance", "media"]
QUEUES: tuple[QueueName, ...] = ("send", "reply", "scheduled", "maintenance", "media")


class DatabaseSettings(BaseModel):
    url: str = DEFAULT_SQLITE_URL
    # PostgreSQL connections per process (each `serve` process and each `worker`): the
    # SQLAlchemy pool and its overflow, and the job queue's own pool (README, "Sizing").
    pool_size: int = Field(default=10, ge=1, le=200)
    max_overflow: int = Field(default=10, ge=0, le=200)
    job_pool_min: int = Field(default=2, ge=1, le=200)
    job_pool_max: int = Field(default=12, ge=1, le=200)

    @model_validator(mode="after")
    def _job_pool_bounds(self) -> DatabaseSettings:
        if self.job_pool_min > self.job_pool_max:
            raise ValueError("DATABASE_JOB_POOL_MIN must not exceed DATABASE_JOB_POOL_MAX")
        return self


class RedisSettings(BaseModel):
    # Unset: live events and login limits stay in the one process (the embedded default).
    url: str | None = None
    # Redis channel names start with this, so several deployments (or test runs) share a server.
    prefix: str = Field(default="wa", pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class LLMSettings(BaseModel):
    """What every model provider shares; each SDK's own credentials are in its group below."""

    provider: ProviderName | None = None
    max_tokens: int = Field(default=1024, ge=1, le=64000)
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_tool_rounds: int = Field(default=4, ge=1, le=16)
    history_messages: int = Field(default=20, ge=1, le=200)
    # Outages past the SDK's own retries: tried again this many times, then the agent takes over.
    outage_retries: int = Field(default=2, ge=0, le=10)
    outage_backoff_seconds: float = Field(default=2.0, ge=0, le=300)
    # Rate limits past the SDK's own retries (429, Anthropic's 529 overloaded) slow every call
    # of the process down instead of failing replies; a reply is handed over only once a wait
    # would end this long after it first asked for the model. Without a retry-after, the wait
    # is this backoff, doubling for each further limit the reply meets.
    rate_limit_give_up_seconds: float = Field(default=180.0, ge=0, le=3600)
    rate_limit_backoff_seconds: float = Field(default=2.0, gt=0, le=300)
    # Model calls drafting at once, in this process and for one account: an account's burst
    # waits for its own share and leaves the rest to other accounts' customers.
    max_concurrent_calls: int = Field(default=500, ge=1, le=10000)
    max_concurrent_calls_per_account: int = Field(default=100, ge=1, le=10000)


class AnthropicSettings(BaseModel):
    api_key: str | None = None
    base_url: str | None = None
    model: str = "claude-sonnet-5-5"


class OpenAISettings(BaseModel):
    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"


class TranscribeSettings(BaseModel):
    """Voice notes to text through an OpenAI-compatible /audio/transcriptions endpoint
    (docs/decisions.md, 32): OpenAI, Groq or a local faster-whisper / whisper.cpp server."""

    # Unset: no transcriber; a voice note stays a voice note for the agent.
    base_url: str | None = None
    model: str = Field(default="whisper-1", min_length=1)
    # A local server needs none.
    api_key: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)


class GreenAPISettings(BaseModel):
    # Used when a channel gives no apiUrl of its own.
    url: str = "https://api.green-api.com"
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    sends_per_second: float = Field(default=20.0, gt=0)


class MetaCloudSettings(BaseModel):
    # Graph's host and version, used when a channel gives no graph_url of its own
    # (docs/providers.md, M1): tests point a channel at a fake on 127.0.0.1.
    graph_url: str = "https://graph.facebook.com/v26.0"
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)


class ReplySettings(BaseModel):
    # Quiet time before replying, so a burst of messages gets one answer.
    debounce_seconds: float = Field(default=3.0, ge=0, le=120)


class WorkerSettings(BaseModel):
    # Run jobs inside `serve` (always so with SQLite, whose job queue lives in the process).
    in_process: bool = True
    # A worker silent for this long is dead: its jobs are retried by another one.
    heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)
    stalled_after_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The queues this process works, each with its own number of jobs at once: sends are short
    # and first, a reply mostly waits on the model, maintenance is the periodic recovery.
    queues: tuple[QueueName, ...] = QUEUES
    concurrency_send: int = Field(default=20, ge=1, le=1000)
    # More reply slots than model calls: a reply over its account's share waits in its slot.
    concurrency_reply: int = Field(default=1000, ge=1, le=10000)
    # Reply jobs of one account running at once in this process, reads included: the others
    # wait in their slots without a query, so one account's burst cannot fill the event loop
    # and another account's customer is drafted at once (docs/architecture.md, invariant 9).
    replies_per_account: int = Field(default=40, ge=1, le=10000)
    concurrency_scheduled: int = Field(default=20, ge=1, le=1000)
    concurrency_maintenance: int = Field(default=2, ge=1, le=100)
    # Downloads of the files customers send (docs/decisions.md, 31): never a send's slot.
    concurrency_media: int = Field(default=10, ge=1, le=1000)

    def concurrency(self, queue: QueueName) -> int:
        return int(getattr(self, f"concurrency_{queue}"))


class RecoverySettings(BaseModel):
    # Lost work is re-derived from the rows this often (and at every start-up).
    every_seconds: int = Field(default=60, ge=1, le=3600)


class SendSettings(BaseModel):
    # Waits before each further try of a send that failed in a way that may pass (after the
    # client's own quick retries); past the last one the message is marked failed.
    retry_delays_seconds: tuple[float, ...] = (5.0, 30.0, 120.0)
    # A send left 'sending' this long without an echo from the provider is tried again.
    stale_after_seconds: float = Field(default=120.0, gt=0, le=86400)


class PhotoSettings(BaseModel):
    # Listing photos uploaded on the listing page, served at /photos/<name> (docs/decisions.md,
    # 29); 5 MB is the most Meta takes for an image (docs/providers.md, M10).
    dir: Path = Path("data/photos")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)


class MediaSettings(BaseModel):
    # Files customers (and the agent's phone) send, downloaded by a job and kept here, one
    # folder per account, served behind the session at /media/<message id> (docs/decisions.md,
    # 31). 16 MB is what WhatsApp itself lets a video or audio be.
    dir: Path = Path("data/media")
    # "s3": kept in the S3-compatible bucket of the S3_* settings instead, under the same keys.
    storage: Literal["local", "s3"] = "local"
    max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    # Waits before each further try of a download that failed in a way that may pass; past the
    # last one the file is marked failed and only the provider's reference stays.
    retry_delays_seconds: tuple[float, ...] = (5.0, 30.0, 120.0)


class S3Settings(BaseModel):
    # The bucket received files are kept in with MEDIA_STORAGE=s3 (docs/decisions.md, 31).
    bucket: str = ""
    # Unset: AWS itself; else any S3-compatible service (MinIO, Cloudflare R2...).
    endpoint_url: str = ""
    region: str = ""
    # Unset: boto3's own chain (environment, shared files, instance role).
    access_key_id: str = ""
    secret_access_key: str = ""
    prefix: str = "media/"


class WebhookSettings(BaseModel):
    max_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # A channel's webhook token is checked against a copy this old at most (0: read every time);
    # a change made in another process is seen within it.
    channel_cache_seconds: float = Field(default=5.0, ge=0, le=300)


class PollingSettings(BaseModel):
    # receiveNotification waits this long for a notification before answering none (Green API
    # allows 5 to 60 s); the worker then asks again at once.
    receive_timeout_seconds: int = Field(default=5, ge=5, le=60)
    # How often the worker re-reads which channels are in polling mode.
    scan_seconds: float = Field(default=10.0, gt=0, le=3600)


class BackfillSettings(BaseModel):
    # A customer message that arrives through a backfill this young is answered; an older one
    # is flagged for the agent instead (an answer hours late would only confuse).
    answer_within_minutes: int = Field(default=30, ge=0, le=10080)
    # How far back the automatic check reads: at start-up and when a number is linked again.
    automatic_minutes: int = Field(default=360, ge=1, le=43200)


class SessionSettings(BaseModel):
    max_age_days: int = Field(default=30, ge=1, le=365)
    # A session unused this long is over, even before its max age.
    idle_days: int = Field(default=7, ge=1, le=365)


class LoginSettings(BaseModel):
    failures_per_email: int = Field(default=5, ge=1)
    failures_per_address: int = Field(default=20, ge=1)
    failure_window_seconds: int = Field(default=900, ge=1)
    # Namespaces the rate-limit keys in a shared Redis.
    rate_limit_prefix: str = Field(default="whatsapp-assistant", min_length=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None,
        extra="ignore",
        case_sensitive=False,
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    environment: Literal["development", "production", "test"] = "development"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    # None: Secure cookies exactly when PUBLIC_BASE_URL is https.
    secure_cookies: bool | None = None
    # The demo's fast-forward: POST /api/v1/simulator/clock moves this process's clock (every
    # account's) forward, so a follow-up due tomorrow goes now. Never in production.
    demo_clock: bool = False

    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    llm: LLMSettings = LLMSettings()
    anthropic: AnthropicSettings = AnthropicSettings()
    openai: OpenAISettings = OpenAISettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    green_api: GreenAPISettings = GreenAPISettings()
    meta_cloud: MetaCloudSettings = MetaCloudSettings()
    reply: ReplySettings = ReplySettings()
    worker: WorkerSettings = WorkerSettings()
    recovery: RecoverySettings = RecoverySettings()
    send: SendSettings = SendSettings()
    photos: PhotoSettings = PhotoSettings()
    media: MediaSettings = MediaSettings()
    s3: S3Settings = S3Settings()
    webhook: WebhookSettings = WebhookSettings()
    polling: PollingSettings = PollingSettings()
    backfill: BackfillSettings = BackfillSettings()
    session: SessionSettings = SessionSettings()
    login: LoginSettings = LoginSettings()

    @model_validator(mode="after")
    def _no_dev_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError("set SECRET_KEY to a random value of 32+ characters in production")
        if self.environment == "production" and self.demo_clock:
            raise ValueError("DEMO_CLOCK moves every account's clock: never in production")
        if self.media.storage == "s3" and not self.s3.bucket:
            raise ValueError("MEDIA_STORAGE=s3 needs S3_BUCKET, the bucket files are kept in")
        return self

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_base_url.startswith("https://")

    @property
    def effective_provider(self) -> ProviderName:
        """Anthropic when a key is set and nothing else was asked for; offline otherwise."""
        if self.llm.provider is not None:
            return self.llm.provider
        return "anthropic" if self.anthropic.api_key else "offline"

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The file behind a sqlite URL, so its folder can be created before first use."""
        if not self.is_sqlite:
            return None
        _, _, path = self.database.url.partition(":///")
        return None if path in ("", ":memory:") else Path(path)


def load_settings() -> Settings:
    return Settings()
