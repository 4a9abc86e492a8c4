"""Running the job worker: inside the web process (embedded default) or as its own process."""

from __future__ import annotations

import asyncio
import logging

import procrastinate

from whatsapp_assistant.config import QueueName
from whatsapp_assistant.conversations.runtime import Runtime

logger = logging.getLogger(__name__)

RESTART_DELAYS_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # then every 10 s, for as long as it takes


async def run_worker(app: procrastinate.App, runtime: Runtime) -> None:
    """Work every queue of this process until cancelled (how the process stops it): one
    procrastinate worker per queue, each with its own concurrency, so a send never waits for a
    free slot behind drafts that wait on the model (docs/architecture.md, invariant 9)."""
    settings = runtime.settings.worker
    async with asyncio.TaskGroup() as group:
        for queue in dict.fromkeys(settings.queues):
            concurrency = settings.concurrency(queue)
            group.create_task(_keep_working(app, runtime, queue, concurrency), name=queue)


async def _keep_working(
    app: procrastinate.App, runtime: Runtime, queue: QueueName, concurrency: int
) -> None:
    """A lost database (a PostgreSQL restart, a network cut) stops procrastinate's worker, with
    an error or without one; it is started again, and the jobs it held are retried as stalled
    (docs/architecture.md, invariant 2). Before, the queue stopped for good."""
    failures = 0
    while True:
        started = asyncio.get_running_loop().time()
        try:
            await _work(app, runtime, queue, concurrency)
            logger.warning("%s worker stopped by itself", queue)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s worker stopped", queue)
        if asyncio.get_running_loop().time() - started > 60:
            failures = 0  # it ran for a while: this is a new outage, not the same one
        delay = RESTART_DELAYS_SECONDS[min(failures, len(RESTART_DELAYS_SECONDS) - 1)]
        failures += 1
        logger.warning("starting the %s worker again in %.1f s", queue, delay)
        await asyncio.sleep(delay)


async def _work(
    app: procrastinate.App, runtime: Runtime, queue: QueueName, concurrency: int
) -> None:
    settings = runtime.settings
    await app.run_worker_async(
        queues=[queue],
        name=f"worker-{queue}",
        update_heartbeat_interval=settings.worker.heartbeat_seconds,
        stalled_worker_timeout=settings.worker.stalled_after_seconds,
        concurrency=concurrency,
        additional_context={"runtime": runtime},
        install_signal_handlers=False,
        # Scheduled jobs (the reply debounce) are found by polling, so poll often.
        fetch_job_polling_interval=0.2,
        delete_jobs="successful",
        wait=True,
    )
