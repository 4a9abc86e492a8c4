"""The inbox pages over HTTP: what they refuse, and that refusing changes nothing."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import ApiAccount
from tests.conversations.harness import Service, fixture, wait_until
from tests.web.signin import sign_in
from whatsapp_assistant.web.pages import inbox as inbox_pages

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def service(service: Service) -> Service:
    """James has written and the assistant has answered."""
    await service.post_webhook(fixture("incoming_text"))
    await service.wait_for_sends(1)
    return service


async def _thread_url(service: Service) -> str:
    listed = await service.client.get("/api/v1/conversations", headers=service.account.headers)
    return f"/inbox/{listed.json()[0]['id']}"


async def _token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = _CSRF.search(page.text)
    assert match is not None, page.text
    return match.group(1)


async def test_signed_out_pages_go_to_login_and_back(service: Service) -> None:
    url = await _thread_url(service)
    response = await service.client.get(url)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Finbox%2F{url.rsplit('/', 1)[1]}"


async def test_the_thread_shows_the_conversation_and_marks_it_read(service: Service) -> None:
    url = await _thread_url(service)
    await sign_in(service.client, service.account.email)
    inbox = await service.client.get("/inbox")
    assert 'aria-label="1 unread"' in inbox.text
    thread = await service.client.get(url)
    assert thread.status_code == 200
    assert "James Whitfield" in thread.text
    assert "<strong>Sunny T2 in Graça with terrace</strong>" in thread.text
    assert thread.headers["cache-control"] == "no-store"
    inbox = await service.client.get("/inbox")
    assert "1 unread" not in inbox.text


async def test_an_empty_agent_message_is_refused_and_nothing_is_sent(service: Service) -> None:
    url = await _thread_url(service)
    await sign_in(service.client, service.account.email)
    token = await _token(service.client, url)
    response = await service.client.post(
        f"{url}/messages", data={"text": "   ", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "Write a message first." in response.text
    [conversation] = await service.conversations()
    assert conversation.mode == "ai"  # refusing did not take over either
    assert len(service.green_api.sent_messages) == 1


async def test_a_wrong_mode_is_refused(service: Service) -> None:
    url = await _thread_url(service)
    await sign_in(service.client, service.account.email)
    token = await _token(service.client, url)
    response = await service.client.post(f"{url}/mode", data={"mode": "robot", "csrf_token": token})
    assert response.status_code == 422
    assert "Nothing was changed" in response.text
    [conversation] = await service.conversations()
    assert conversation.mode == "ai"


async def test_take_over_and_send_from_the_page(service: Service) -> None:
    url = await _thread_url(service)
    await sign_in(service.client, service.account.email)
    token = await _token(service.client, url)
    taken = await service.client.post(f"{url}/mode", data={"mode": "human", "csrf_token": token})
    assert taken.status_code == 303
    assert taken.headers["location"] == f"{url}?done=taken-over"
    page = await service.client.get(taken.headers["location"])
    assert "You are answering this conversation." in page.text
    assert "Hand back to AI" in page.text
    sent = await service.client.post(
        f"{url}/messages", data={"text": "Rita here: 5pm works?", "csrf_token": token}
    )
    assert sent.status_code == 303
    await wait_until(lambda: len(service.green_api.sent_messages) == 2)
    assert service.green_api.sent_messages[-1]["message"] == "Rita here: 5pm works?"


async def test_another_accounts_thread_is_not_found(
    service: Service, other_account: ApiAccount
) -> None:
    url = await _thread_url(service)
    await sign_in(service.client, other_account.email)
    page = await service.client.get(url)
    assert page.status_code == 404
    assert "James" not in page.text
    token = await _token(service.client, "/inbox")
    taken = await service.client.post(f"{url}/mode", data={"mode": "human", "csrf_token": token})
    assert taken.status_code == 404
    sent = await service.client.post(f"{url}/messages", data={"text": "hi", "csrf_token": token})
    assert sent.status_code == 404
    [conversation] = await service.conversations()
    assert conversation.mode == "ai"
    assert len(service.green_api.sent_messages) == 1


async def test_a_malformed_thread_address_is_not_found(service: Service) -> None:
    await sign_in(service.client, service.account.email)
    page = await service.client.get("/inbox/not-a-conversation")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


async def test_older_conversations_are_a_page_away(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_pages, "PAGE_SIZE", 2)
    for n in range(2):  # James is there already: three in all
        said = await service.client.post(
            "/api/v1/simulator/messages",
            headers=service.account.headers,
            json={"text": "Hello", "customer": f"Customer {n}", "phone": f"35190000000{n}"},
        )
        assert said.status_code == 202
    await sign_in(service.client, service.account.email)

    first = await service.client.get("/inbox")
    assert "Customer 1" in first.text and "Customer 0" in first.text
    assert "James Whitfield" not in first.text  # the oldest
    assert "page=2" in first.text and "Newer" not in first.text
    second = await service.client.get("/inbox?view=all&page=2")
    assert "James Whitfield" in second.text and "Customer 0" not in second.text
    assert "page=1" in second.text and "Older" not in second.text
    bad = await service.client.get("/inbox?page=0")
    assert bad.status_code == 422


async def _scheduled(service: Service, url: str) -> list[dict[str, object]]:
    conversation_id = url.rsplit("/", 1)[1]
    response = await service.client.get(
        f"/api/v1/conversations/{conversation_id}/scheduled", headers=service.account.headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()
    return rows


async def test_the_thread_shows_the_next_scheduled_message_and_cancels_it(
    service: Service,
) -> None:
    url = await _thread_url(service)
    first, second = (row for row in await _scheduled(service, url) if row["kind"] == "followup")
    await sign_in(service.client, service.account.email)
    thread = await service.client.get(url)
    assert "Next scheduled: Follow-up" in thread.text
    assert f'action="{url}/scheduled/{first["id"]}/cancel"' in thread.text

    token = await _token(service.client, url)
    cancelled = await service.client.post(
        f"{url}/scheduled/{first['id']}/cancel", data={"csrf_token": token}
    )
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"{url}?done=scheduled-cancelled"
    statuses = {row["id"]: row["status"] for row in await _scheduled(service, url)}
    assert (statuses[first["id"]], statuses[second["id"]]) == ("cancelled", "pending")
    thread = await service.client.get(url)
    assert f'action="{url}/scheduled/{second["id"]}/cancel"' in thread.text


async def test_a_scheduled_message_of_another_conversation_is_not_found(
    service: Service,
) -> None:
    url = await _thread_url(service)
    [first, *_] = await _scheduled(service, url)
    other = await service.client.post(
        "/api/v1/simulator/messages", headers=service.account.headers, json={"text": "hi"}
    )
    assert other.status_code == 202
    listed = await service.client.get("/api/v1/conversations", headers=service.account.headers)
    [simulated] = [c["id"] for c in listed.json() if not url.endswith(c["id"])]
    await sign_in(service.client, service.account.email)
    token = await _token(service.client, url)
    elsewhere = f"/inbox/{simulated}/scheduled/{first['id']}/cancel"
    response = await service.client.post(elsewhere, data={"csrf_token": token})
    assert response.status_code == 404
    assert {row["status"] for row in await _scheduled(service, url)} == {"pending"}
