"""The embedded job queue keeps nothing it no longer needs: a server runs for months."""

from __future__ import annotations

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
