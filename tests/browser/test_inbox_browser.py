"""The agent's inbox in a real browser: live messages, takeover, hand-back, sending, tenancy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import DESKTOP, SignIn, screenshot, wait_live
from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import WEBHOOK_TOKEN, customer_text, fixture, wait_until
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.db.session import Database

JAMES = "James Whitfield"
LIVE_MS = 15_000  # the assistant's reply: debounce 0, offline AI, a real job queue


@pytest.fixture
async def http(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        yield client


@pytest.fixture
async def connected(
    http: httpx.AsyncClient, api_account: ApiAccount, fake_green_api: FakeGreenAPI, db: Database
) -> FakeGreenAPI:
    """The account has listings and a Green API number (the loopback fake)."""
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    response = await http.post(
        "/api/v1/channels",
        headers=api_account.headers,
        json={
            "type": "green_api",
            "id_instance": "1101823456",
            "api_token": fake_green_api.token,
            "api_url": fake_green_api.base_url,
            "webhook_token": WEBHOOK_TOKEN,
        },
    )
    assert response.status_code == 201, response.text
    return fake_green_api


@pytest.fixture
async def answered(http: httpx.AsyncClient, connected: FakeGreenAPI) -> FakeGreenAPI:
    """James has written on WhatsApp and the assistant's answer went out."""
    await post_webhook(http, fixture("incoming_text"))
    await wait_until(lambda: len(connected.sent_messages) == 1)
    return connected


async def post_webhook(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    response = await http.post(
        "/webhooks/green-api",
        content=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def _open_thread(page: Page, name: str = JAMES) -> None:
    await page.get_by_role("link", name=name).click()
    await page.wait_for_url("**/inbox/*")
    await wait_live(page)


class TestLiveInbox:
    async def test_a_customer_message_appears_live_and_the_reply_in_the_thread(
        self,
        sign_in: SignIn,
        api_account: ApiAccount,
        http: httpx.AsyncClient,
        connected: FakeGreenAPI,
    ) -> None:
        page = await sign_in(api_account)
        await expect(page.get_by_text("No conversations yet.")).to_be_visible()
        await wait_live(page)

        await post_webhook(http, fixture("incoming_text"))

        row = page.locator("li[data-conversation]")
        await expect(row).to_contain_text(JAMES, timeout=LIVE_MS)
        await expect(row).to_contain_text("Assistant:", timeout=LIVE_MS)  # the AI answered
        await expect(row.locator(".badge.ai")).to_have_text("AI")
        await expect(row.locator(".badge.unread")).to_have_text("1")
        await screenshot(page, "inbox-375")

        await _open_thread(page)
        bubbles = page.locator("#messages .bubble")
        await expect(bubbles.first).to_contain_text("looking to buy a 2-bedroom flat")
        await expect(page.locator("#messages .bubble.ai")).to_contain_text("Sunny T2 in Graça")
        await screenshot(page, "thread-375")

        desktop = await sign_in(api_account, viewport=DESKTOP)
        await expect(desktop.locator(".badge.unread")).to_have_count(0)  # read on the phone
        await screenshot(desktop, "inbox-1280")
        await _open_thread(desktop)
        await expect(desktop.locator("#messages .bubble.ai")).to_be_visible()
        await screenshot(desktop, "thread-1280")

    async def test_takeover_silences_the_ai_until_handed_back_on_every_screen(
        self,
        sign_in: SignIn,
        api_account: ApiAccount,
        http: httpx.AsyncClient,
        answered: FakeGreenAPI,
    ) -> None:
        phone = await sign_in(api_account)
        laptop = await sign_in(api_account, viewport=DESKTOP)
        await _open_thread(phone)
        await _open_thread(laptop)

        await phone.get_by_role("button", name="Take over").click()
        await expect(phone.locator("#mode-badge")).to_have_text("HUMAN")
        await expect(phone.get_by_text("You are answering.")).to_be_visible()
        await expect(laptop.locator("#mode-badge")).to_have_text("HUMAN")  # live, no reload

        question = customer_text("Is the Graça flat still free?", message_id="3EB0000000000001")
        await post_webhook(http, question)
        await expect(laptop.locator("#messages")).to_contain_text("Is the Graça flat still free?")
        await phone.wait_for_timeout(800)  # time the AI would need to (wrongly) answer
        assert len(answered.sent_messages) == 1

        await laptop.get_by_role("button", name="Hand back to AI").click()
        await expect(phone.locator("#mode-badge")).to_have_text("AI")
        await wait_until(lambda: len(answered.sent_messages) == 2)  # the waiting message
        await expect(phone.locator("#messages .bubble.ai")).to_have_count(2, timeout=LIVE_MS)

    async def test_sending_as_the_agent_takes_over_and_reaches_whatsapp(
        self,
        sign_in: SignIn,
        api_account: ApiAccount,
        http: httpx.AsyncClient,
        answered: FakeGreenAPI,
    ) -> None:
        page = await sign_in(api_account)
        await _open_thread(page)

        await page.get_by_label(f"Message to {JAMES}").fill("Hi James, Rita here. Free at 5pm?")
        await page.get_by_role("button", name="Send").click()

        mine = page.locator("#messages .bubble.human")
        await expect(mine).to_contain_text("Hi James, Rita here. Free at 5pm?")
        await expect(mine.locator(".tick")).to_have_attribute("title", "Sent", timeout=LIVE_MS)
        await expect(page.locator("#mode-badge")).to_have_text("HUMAN")
        await expect(page.get_by_label(f"Message to {JAMES}")).to_have_value("")
        await wait_until(lambda: len(answered.sent_messages) == 2)
        assert answered.sent_messages[-1]["message"] == "Hi James, Rita here. Free at 5pm?"


class TestSimulator:
    async def test_the_simulator_round_trip_shows_in_the_inbox(
        self, sign_in: SignIn, api_account: ApiAccount, db: Database
    ) -> None:
        async with db.session_scope() as session:
            await create_property(session, api_account.account_id)
        inbox = await sign_in(api_account, viewport=DESKTOP)
        await wait_live(inbox)
        customer = await sign_in(api_account)
        await customer.goto("/simulator")
        await wait_live(customer)

        await customer.get_by_label("Message as the customer").fill(
            "Hi, I want a 2-bedroom flat in Lisbon"
        )
        await customer.get_by_role("button", name="Send").click()

        chat = customer.locator("#sim-messages")
        await expect(chat).to_contain_text("Hi, I want a 2-bedroom flat in Lisbon")
        await expect(chat).to_contain_text("Sunny T2 in Graça", timeout=LIVE_MS)
        await expect(inbox.locator("li[data-conversation]")).to_contain_text(
            "Simulated customer", timeout=LIVE_MS
        )
        await screenshot(customer, "simulator-375")

    async def test_an_empty_message_is_refused_and_nothing_is_sent(
        self, sign_in: SignIn, api_account: ApiAccount, http: httpx.AsyncClient
    ) -> None:
        page = await sign_in(api_account)
        await page.goto("/simulator")
        # The browser's own check is bypassed, as a hand-made request would.
        await page.locator("#sim-text").evaluate("el => el.removeAttribute('required')")
        await page.get_by_label("Message as the customer").fill("   ")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("alert")).to_contain_text("Write a message")
        listed = await http.get("/api/v1/conversations", headers=api_account.headers)
        assert listed.json() == []


class TestSafety:
    async def test_another_account_sees_none_of_it(
        self,
        sign_in: SignIn,
        api_account: ApiAccount,
        other_account: ApiAccount,
        http: httpx.AsyncClient,
        connected: FakeGreenAPI,
    ) -> None:
        await post_webhook(http, fixture("incoming_text"))
        owner = await sign_in(api_account)
        await expect(owner.locator("li[data-conversation]")).to_have_count(1)
        thread_url = await owner.locator("li[data-conversation] a").get_attribute("href")
        assert thread_url is not None

        stranger = await sign_in(other_account)
        await expect(stranger.get_by_text("No conversations yet.")).to_be_visible()
        response = await stranger.goto(thread_url)
        assert response is not None and response.status == 404
        await expect(stranger.get_by_role("heading", name="Not found")).to_be_visible()
        await expect(stranger.locator("body")).not_to_contain_text(JAMES)

    async def test_a_wrong_password_is_refused(
        self, browser_page: Page, api_account: ApiAccount
    ) -> None:
        page = browser_page
        await page.goto("/inbox")
        await page.wait_for_url("**/login?next=%2Finbox")
        await page.get_by_label("Email").fill(api_account.email)
        await page.get_by_label("Password").fill("not the password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
        assert "/login" in page.url

    async def test_a_form_post_without_the_csrf_token_changes_nothing(
        self,
        sign_in: SignIn,
        api_account: ApiAccount,
        http: httpx.AsyncClient,
        connected: FakeGreenAPI,
    ) -> None:
        await post_webhook(http, fixture("incoming_text"))
        page = await sign_in(api_account)
        thread_url = await page.locator("li[data-conversation] a").get_attribute("href")
        # The signed-in browser's cookie goes along, as with a forged cross-site form.
        response = await page.request.post(f"{thread_url}/mode", form={"mode": "human"})
        assert response.status == 403
        listed = await http.get("/api/v1/conversations", headers=api_account.headers)
        assert listed.json()[0]["mode"] == "ai"
