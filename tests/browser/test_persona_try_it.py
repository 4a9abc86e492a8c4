"""The agent adds a listing, then asks the assistant about it in the "try it" chat."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import DESKTOP, SignIn, screenshot, wait_live
from tests.conftest import ApiAccount

TITLE = "Sunny T2 in Graça with terrace"
LISTING = {
    "title": TITLE,
    "listing_type": "sale",
    "property_type": "apartment",
    "price": "372000",
    "city": "Lisbon",
    "neighborhood": "Graça",
    "bedrooms": 2,
    "bathrooms": 1,
    "area_sqm": "74",
    "features": ["terrace", "river view"],
}
ASK = "Hi, I want a 2-bedroom flat in Lisbon"
REPLY_TIMEOUT_MS = 15_000


async def add_listing(base_url: str, account: ApiAccount) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=account.headers) as api:
        response = await api.post("/api/v1/properties", json=LISTING)
        assert response.status_code == 201, response.text


async def open_persona(page: Page) -> None:
    await page.goto("/persona")
    await wait_live(page)


async def ask(page: Page, text: str) -> None:
    await page.get_by_label("Message as a customer").fill(text)
    await page.get_by_label("Message as a customer").press("Enter")  # Enter sends


async def test_the_assistant_offers_a_new_listing_in_the_try_it_chat(
    sign_in: SignIn, api_account: ApiAccount, live_server: str
) -> None:
    await add_listing(live_server, api_account)
    page = await sign_in(api_account)
    await open_persona(page)
    await expect(page.get_by_text("No messages yet")).to_be_visible()

    await ask(page, ASK)

    messages = page.locator("#try-messages")
    await expect(messages.locator(".bubble.customer")).to_contain_text(ASK)
    reply = messages.locator(".bubble.ai").last
    await expect(reply).to_contain_text(TITLE, timeout=REPLY_TIMEOUT_MS)
    await expect(reply).to_contain_text("offline assistant")
    await expect(page.get_by_text("The assistant is typing…")).to_have_count(0)
    # The box was cleared for the next message, and the page did not reload to get here.
    await expect(page.get_by_label("Message as a customer")).to_have_value("")
    assert await page.evaluate("Number(document.body.dataset.refreshed || 0)") >= 1
    await screenshot(page, "persona-375")

    # Start over: a clean chat, and the assistant still answers live in the new one.
    await page.get_by_role("button", name="Start over").click()
    await expect(page.get_by_text("No messages yet")).to_be_visible()
    await wait_live(page)
    await ask(page, "Do you have anything with a terrace?")
    await expect(page.locator("#try-messages .bubble.ai").last).to_contain_text(
        TITLE, timeout=REPLY_TIMEOUT_MS
    )


async def test_the_persona_form_and_the_chat_sit_side_by_side_on_a_laptop(
    sign_in: SignIn, api_account: ApiAccount, live_server: str
) -> None:
    await add_listing(live_server, api_account)
    page = await sign_in(api_account, viewport=DESKTOP)
    await open_persona(page)
    await page.get_by_label("Your name").fill("Rita Almeida")
    await page.get_by_role("button", name="Save persona").click()
    await expect(page.get_by_text("Persona saved.")).to_be_visible()
    await wait_live(page)

    await ask(page, ASK)
    reply = page.locator("#try-messages .bubble.ai").last
    await expect(reply).to_contain_text(TITLE, timeout=REPLY_TIMEOUT_MS)

    form = await page.get_by_role("button", name="Save persona").bounding_box()
    chat = await page.locator("#try").bounding_box()
    assert form is not None
    assert chat is not None
    assert chat["x"] > form["x"] + form["width"] / 2  # beside the form, not below it
    await screenshot(page, "persona-1280")
