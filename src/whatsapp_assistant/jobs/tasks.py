"""One short function per job name: ids in, one service call, no decisions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import procrastinate
from procrastinate.job_context import JobContext

from whatsapp_assistant.conversations import (
    auto_resume,
    backfill,
    media,
    outbox,
    read_receipts,
    recovery,
    reply,
)
from whatsapp_assistant.conversations.runtime import (
    AUTO_RESUME_JOB,
    BACKFILL_JOB,
    FETCH_MEDIA_JOB,
    MARK_READ_JOB,
    RECOVER_JOB,
    REPLY_JOB,
    SCHEDULED_JOB,
    SEND_JOB,
    SWEEP_JOB,
    Runtime,
)
from whatsapp_assistant.conversations.scheduled import send as scheduled


def _runtime(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime


def recovery_cron(every_seconds: int) -> str:
    """Cron for the recovery job: once a minute, or every N seconds (a sixth, seconds field)."""
    if every_seconds >= 60:
        return f"*/{max(1, every_seconds // 60)} * * * *"
    return f"* * * * * */{every_seconds}"


def register_tasks(app: procrastinate.App, *, recovery_every_seconds: int = 60) -> None:
    @app.task(name=REPLY_JOB, queue="reply", pass_context=True)
    async def reply_job(
        context: JobContext, conversation_id: str, account_id: str | None = None
    ) -> None:
        account = uuid.UUID(account_id) if account_id else None
        await reply.answer_in_turn(_runtime(context), uuid.UUID(conversation_id), account)

    @app.task(name=SEND_JOB, queue="send", pass_context=True)
    async def send_job(context: JobContext, message_id: str, then: list[str] | None = None) -> None:
        # `then`: the rows queued with it, sent after it in order (outbox.send_on_commit).
        await outbox.send_message(_runtime(context), uuid.UUID(message_id))
        if then:
            await outbox.send_committed(_runtime(context), [uuid.UUID(i) for i in then])

    @app.task(name=MARK_READ_JOB, queue="send", pass_context=True)
    async def mark_read_job(context: JobContext, channel_id: str, provider_message_id: str) -> None:
        await read_receipts.mark_read(_runtime(context), uuid.UUID(channel_id), provider_message_id)

    # On a queue of its own: a 16 MB download must not hold a send's slot, nor a reply's
    # (docs/architecture.md, invariant 9).
    @app.task(name=FETCH_MEDIA_JOB, queue="media", pass_context=True)
    async def fetch_media_job(
        context: JobContext, message_id: str, conversation_id: str | None = None
    ) -> None:
        await media.fetch_media(_runtime(context), uuid.UUID(message_id))

    # On the reply queue: a follow-up may be written by the model, long work that sends must
    # not wait behind (docs/architecture.md, invariant 9).
    @app.task(name=SCHEDULED_JOB, queue="reply", pass_context=True)
    async def scheduled_job(context: JobContext, scheduled_id: str) -> None:
        await scheduled.send_due(_runtime(context), uuid.UUID(scheduled_id))

    @app.periodic(cron=recovery_cron(recovery_every_seconds), periodic_id="scheduled_sweep")
    @app.task(name=SWEEP_JOB, queue="maintenance", pass_context=True, queueing_lock="sweep")
    async def sweep_job(context: JobContext, timestamp: int) -> None:
        await scheduled.sweep(_runtime(context))

    @app.periodic(cron=recovery_cron(recovery_every_seconds), periodic_id="recover")
    @app.task(name=RECOVER_JOB, queue="maintenance", pass_context=True, queueing_lock="recover")
    async def recover_job(context: JobContext, timestamp: int) -> None:
        await recovery.recover(_runtime(context))

    @app.periodic(cron=recovery_cron(recovery_every_seconds), periodic_id="auto_resume")
    @app.task(
        name=AUTO_RESUME_JOB, queue="maintenance", pass_context=True, queueing_lock="auto_resume"
    )
    async def auto_resume_job(context: JobContext, timestamp: int) -> None:
        await auto_resume.resume_due(_runtime(context))

    # Reads Green API's journal at one request a second: maintenance work, never a reply's slot.
    @app.task(name=BACKFILL_JOB, queue="maintenance", pass_context=True)
    async def backfill_job(
        context: JobContext, channel_id: str, minutes: int, since_created: bool = False
    ) -> None:
        await backfill.backfill(
            _runtime(context),
            uuid.UUID(channel_id),
            since=timedelta(minutes=minutes),
            since_created=since_created,
        )
