"""Health and authentication of the JSON API."""

from __future__ import annotations

import httpx


class TestHealthz:
    async def test_answers_ok_when_the_database_answers(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
