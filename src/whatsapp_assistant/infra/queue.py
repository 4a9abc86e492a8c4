"""The job queue: procrastinate on PostgreSQL, its in-memory connector in the embedded default.

Jobs are wake-up calls (docs/architecture.md, invariant 2): what they do is re-derived from rows, so
a job lost with a
process (always possible in memory) is re-created by the start-up and periodic recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import procrastinate
from procrastinate import jobs, testing
from procrastinate.connector import Notify
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import override

from whatsapp_assistant.db.session import on_commit

logger = logging.getLogger(__name__)


class EmbeddedConnector(testing.InMemoryConnector):
    """procrastinate's in-memory connector, fit for a server that runs for months.

    Built for tests, it logs every query and keeps every finished job with its events: a
    slow leak (about 500,000 entries a day from polling alone). This one logs nothing and
    forgets a job once it has finished; jobs still to run or running are kept as before.
    """

    def __init__(self) -> None:
        super().__init__()
        self._listeners: dict[tuple[str, ...], Notify] = {}

    @override
    async def listen_notify(self, on_notification: Notify, channels: Iterable[str]) -> None:
        # The parent keeps one listener, the last to ask: with a worker per queue, every other
        # queue's jobs waited for the next poll (0.2 s per hop). One listener per set of
        # channels: a worker started again replaces its earlier self.
        self._listeners[tuple(sorted(channels))] = on_notification

    @override
    async def _notify(self, queue_name: str, notification: jobs.Notification) -> None:
        for channels, on_notification in list(self._listeners.items()):
            self.on_notification, self.notify_channels = on_notification, list(channels)
            await super()._notify(queue_name, notification)

    @override
    async def generic_execute(
        self, query: str, suffix: Literal["run", "one", "all"], **arguments: Any
    ) -> Any:
        return await getattr(self, f"{self.reverse_queries[query]}_{suffix}")(**arguments)

    @override
    async def finish_job_run(self, job_id: int, status: str, delete_job: bool) -> None:
        await super().finish_job_run(job_id, status, delete_job)
        self.jobs.pop(job_id, None)
        self.events.pop(job_id, None)


def make_job_app(database_url: str, *, pool_min: int = 2, pool_max: int = 12) -> procrastinate.App:
    """The job app; on PostgreSQL its own psycopg pool holds `pool_min`..`pool_max` connections
    (psycopg_pool's default of 4 is shared by every defer after commit, the worker's LISTEN,
    its job fetching and every running job)."""
    if database_url.startswith("postgresql"):
        conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
        connector: procrastinate.BaseConnector = procrastinate.PsycopgConnector(
            conninfo=conninfo, min_size=pool_min, max_size=pool_max
        )
    else:
        connector = EmbeddedConnector()
    return procrastinate.App(connector=connector)


async def ensure_schema(app: procrastinate.App) -> None:
    """Apply procrastinate's own tables once (PostgreSQL only; they live beside ours)."""
    connector = app.connector
    if isinstance(connector, testing.InMemoryConnector):
        return
    row = await connector.execute_query_one_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
    )
    if not row["present"]:
        await app.schema_manager.apply_schema_async()


@dataclass
class JobQueue:
    """Defers jobs by name; domain code never imports procrastinate."""

    app: procrastinate.App

    @property
    def in_memory(self) -> bool:
        return isinstance(self.app.connector, testing.InMemoryConnector)

    async def defer(
        self,
        task_name: str,
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
        delay_seconds: float = 0,
        **kwargs: Any,
    ) -> None:
        # Each task carries its queue (jobs/tasks.py): an unknown name is a bug, not a job for
        # a queue nobody works.
        options: dict[str, Any] = {}
        if lock is not None:
            options["lock"] = lock
        if queueing_lock is not None:
            options["queueing_lock"] = queueing_lock
        if delay_seconds > 0:
            options["schedule_in"] = {"seconds": delay_seconds}
        deferrer = self.app.configure_task(name=task_name, allow_unknown=False, **options)
        try:
            await deferrer.defer_async(**kwargs)
        except procrastinate.exceptions.AlreadyEnqueued:
            # One pending job per queueing lock is enough: it reads every row when it runs.
            logger.debug("job %s already queued for %s", task_name, queueing_lock)

    async def retry_stalled(self, *, seconds_since_heartbeat: float) -> int:
        """Put back jobs whose worker died (no heartbeat): without this, a killed worker's job
        stays 'doing' and holds its conversation's lock forever. Safe because every job is
        idempotent (docs/architecture.md, invariant 2)."""
        if self.in_memory:
            return 0  # the in-memory queue dies with its only worker
        manager = self.app.job_manager
        stalled = list(
            await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat)
        )
        for job in stalled:
            await self._retry_or_close(job)
        if stalled:
            logger.warning("retried %d jobs of dead workers", len(stalled))
        return len(stalled)

    async def _retry_or_close(self, job: procrastinate.jobs.Job) -> None:
        manager = self.app.job_manager
        assert job.id is not None
        try:
            await manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:
            # The recovery already deferred a fresh job under the same queueing lock while this
            # one still looked alive: that job redoes this one's work from the rows, so this one
            # is closed. Retrying it would fail on every run, and it would hold its lock forever.
            await self._close(job.id)
        except procrastinate.exceptions.ConnectorException:
            logger.info("stalled job %s was retried or finished by another worker", job.id)

    async def _close(self, job_id: int) -> None:
        try:
            await self.app.job_manager.finish_job_by_id_async(
                job_id, status=procrastinate.jobs.Status.ABORTED, delete_job=False
            )
        except procrastinate.exceptions.ConnectorException:
            logger.info("stalled job %s was retried or finished by another worker", job_id)

    def defer_on_commit(self, session: AsyncSession, task_name: str, **options: Any) -> None:
        async def _defer() -> None:
            await self.defer(task_name, **options)

        on_commit(session, _defer)
