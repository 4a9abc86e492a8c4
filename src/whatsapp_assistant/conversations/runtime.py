"""Runtime: the collaborators conversation work needs (database, jobs, AI, channels), built once."""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_assistant.ai.providers.base import LLMProvider
from whatsapp_assistant.channels.registry import ChannelRegistry
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.infra.queue import JobQueue

REPLY_JOB = "conversations.reply"
SEND_JOB = "messages.send"
RECOVER_JOB = "maintenance.recover"
AUTO_RESUME_JOB = "conversations.auto_resume"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    queue: JobQueue
    llm: LLMProvider
    channels: ChannelRegistry
