"""Running the job worker: inside the web process (embedded default) or as its own process."""

from __future__ import annotations

import asyncio
import logging

import procrastinate

from whatsapp_assistant.conversations.runtime import Runtime

logger = logging.getLogger(__name__)

WORKER_CONCURRENCY = 10
RESTART_DELAYS_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # then every 10 s, for as long as it takes


async def run_worker(app: procrastinate.App, runtime: Runtime) -> None:
    """Run the worker until cancelled (how the process stops it). A lost database (a PostgreSQL
    restart, a network cut) stops procrastinate's worker, with an error or without one; it is
    started again, and the jobs it held are retried as stalled (docs/architecture.md,
    invariant 2). Before, the job queue stopped for good and nobody was answered any more."""
    failures = 0
    while True:
        started = asyncio.get_running_loop().time()
        try:
            await _run_once(app, runtime)
            logger.warning("job worker stopped by itself")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("job worker stopped")
        if asyncio.get_running_loop().time() - started > 60:
            failures = 0  # it ran for a while: this is a new outage, not the same one
        delay = RESTART_DELAYS_SECONDS[min(failures, len(RESTART_DELAYS_SECONDS) - 1)]
        failures += 1
        logger.warning("starting the job worker again in %.1f s", delay)
        await asyncio.sleep(delay)


async def _run_once(app: procrastinate.App, runtime: Runtime) -> None:
    settings = runtime.settings
    await app.run_worker_async(
        update_heartbeat_interval=settings.worker.heartbeat_seconds,
        stalled_worker_timeout=settings.worker.stalled_after_seconds,
        concurrency=WORKER_CONCURRENCY,
        additional_context={"runtime": runtime},
        install_signal_handlers=False,
        # Scheduled jobs (the reply debounce) are found by polling, so poll often.
        fetch_job_polling_interval=0.2,
        delete_jobs="successful",
        wait=True,
    )
