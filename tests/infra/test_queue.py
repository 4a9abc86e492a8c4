"""The embedded job queue keeps nothing it no longer needs: a server runs for months."""

from __future__ import annotations

import asyncio

from whatsapp_assistant.infra.queue import EmbeddedConnector, make_job_app


async def test_finished_jobs_and_queries_are_forgotten() -> None:
    app = make_job_app("sqlite+aiosqlite:///unused.db")
    connector = app.connector
    assert isinstance(connector, EmbeddedConnector)
    done: list[int] = []

    @app.task(name="record")
    async def record(n: int) -> None:
        done.append(n)

    async with app.open_async():
        for n in range(20):
            await record.defer_async(n=n)
        assert len(connector.jobs) == 20  # waiting jobs are kept until they ran
        await app.run_worker_async(wait=False, install_signal_handlers=False)

    assert sorted(done) == list(range(20))
    assert connector.jobs == {}
    assert connector.events == {}
    assert connector.queries == []


async def test_a_job_wakes_the_worker_of_its_own_queue_without_waiting_for_a_poll() -> None:
    """One worker per queue, as jobs/worker.py runs them: each is told of its own queue's jobs
    (with polling this slow, a job nobody is told of would never run here)."""
    app = make_job_app("sqlite+aiosqlite:///unused.db")
    ran: dict[str, asyncio.Event] = {"first": asyncio.Event(), "second": asyncio.Event()}

    @app.task(name="mark")
    async def mark(queue: str) -> None:
        ran[queue].set()

    async with app.open_async():
        workers = [
            asyncio.create_task(
                app.run_worker_async(
                    queues=[queue],
                    name=queue,
                    fetch_job_polling_interval=3600,
                    install_signal_handlers=False,
                )
            )
            for queue in ran
        ]
        await asyncio.sleep(0.5)  # both have fetched once and now only listen
        for queue in ran:
            await mark.configure(queue=queue).defer_async(queue=queue)
        try:
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in ran.values())), 30)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
