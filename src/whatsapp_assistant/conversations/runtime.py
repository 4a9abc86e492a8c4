"""Runtime: the collaborators conversation work needs (database, jobs, AI, channels), built once."""

from __future__ import annotations

from dataclasses import dataclass, field

from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.channels.registry import ChannelRegistry
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.model_calls import ModelCalls
from whatsapp_assistant.conversations.shares import Shares
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.file_store import FileStore, file_store
from whatsapp_assistant.infra.queue import JobQueue

REPLY_JOB = "conversations.reply"
SEND_JOB = "messages.send"
MARK_READ_JOB = "messages.mark_read"
RECOVER_JOB = "maintenance.recover"
AUTO_RESUME_JOB = "conversations.auto_resume"
SCHEDULED_JOB = "scheduled.send"
SWEEP_JOB = "scheduled.sweep"
BACKFILL_JOB = "channels.backfill"
FETCH_MEDIA_JOB = "media.fetch"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    llm: LLMProvider
    channels: ChannelRegistry
    model_calls: ModelCalls = field(init=False)
    reply_jobs: Shares = field(init=False)  # running reply jobs, per account
    files: FileStore = field(init=False)  # where received files are kept

    def __post_init__(self) -> None:
        llm = self.settings.llm
        self.model_calls = ModelCalls(
            total=llm.max_concurrent_calls, per_account=llm.max_concurrent_calls_per_account
        )
        self.reply_jobs = Shares(self.settings.worker.replies_per_account)
        self.files = file_store(self.settings.media, self.settings.s3)
