"""Running the job worker: inside the web process (embedded default) or as its own process."""

from __future__ import annotations

import procrastinate

from whatsapp_assistant.conversations.runtime import Runtime

WORKER_CONCURRENCY = 10


async def run_worker(app: procrastinate.App, runtime: Runtime) -> None:
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
