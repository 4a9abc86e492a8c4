"""A new agent's first listing, added through the form on a phone, seen on a laptop, and
offered by the assistant in the persona page's "try it" chat."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import DESKTOP, SignIn, screenshot, wait_live
from tests.conftest import ApiAccount


async def test_a_new_agent_adds_a_first_listing_on_a_phone(
    sign_in: SignIn, browser: Browser, api_account: ApiAccount
) -> None:
    page = await sign_in(api_account)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Listings").click()
    await expect(page.get_by_role("heading", name="Add your listings first")).to_be_visible()
    await screenshot(page, "listings-empty-375")

    await page.get_by_role("link", name="Add your first listing").click()
    await expect(page.get_by_role("heading", name="Add a listing")).to_be_visible()
    await page.get_by_label("Title").fill("Sunny T2 in Graça with terrace")
    await page.get_by_label("For sale or rent").select_option("sale")
    await page.get_by_label("Property type").fill("apartment")
    await page.get_by_label("Price").fill("372 000")
    await page.get_by_label("City").fill("Lisbon")
    await page.get_by_label("Neighbourhood").fill("Graça")
    await page.get_by_label("Bedrooms").fill("2")
    await page.get_by_label("Features").fill("terrace, river view")
    await screenshot(page, "listings-form-375")
    await page.get_by_role("button", name="Add listing").click()

    await page.wait_for_url("**/listings?done=listing-created")
    await expect(page.get_by_role("status").filter(has_text="Listing added.")).to_be_visible()
    card = page.get_by_role("listitem").filter(has_text="Sunny T2 in Graça with terrace")
    await expect(card).to_contain_text("€372,000")
    await expect(card).to_contain_text("Graça, Lisbon")
    await expect(page.get_by_label("Search listings")).to_be_visible()
    await screenshot(page, "listings-375")

    laptop = await sign_in(api_account, viewport=DESKTOP)
    await laptop.goto("/listings")
    await expect(laptop.get_by_role("link", name="Sunny T2 in Graça with terrace")).to_be_visible()
    await screenshot(laptop, "listings-1280")

    # The assistant knows it at once: ask in the "try it" chat, as a customer would.
    await page.goto("/persona")
    await wait_live(page)
    await page.get_by_label("Message as a customer").fill("Hi, do you have a flat in Lisbon?")
    await page.get_by_role("button", name="Send").click()
    reply = page.locator("#try-messages .bubble.ai").last
    await expect(reply).to_contain_text("Sunny T2 in Graça with terrace", timeout=15_000)
    await expect(reply).to_contain_text("€372,000")
