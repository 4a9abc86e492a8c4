"""Connecting the agent's Green API instance or Meta number from a phone, and the Settings page on
a laptop."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import DESKTOP, SignIn, screenshot
from tests.conftest import ApiAccount
from tests.fakes.green_api import FakeGreenAPI
from tests.fakes.meta_graph import WABA_ID, FakeMetaGraph
from whatsapp_assistant.config import Settings


async def fits_the_width(page: Page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    fits: bool = await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    return fits


async def test_agent_connects_green_api_on_a_phone(
    sign_in: SignIn, api_account: ApiAccount, fake_green_api: FakeGreenAPI, settings: Settings
) -> None:
    page = await sign_in(api_account)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Channels").click()
    await expect(page.get_by_text("No WhatsApp number is connected yet.")).to_be_visible()

    await page.get_by_label("Instance id (idInstance)").fill(fake_green_api.id_instance)
    token_input = page.get_by_label("API token (apiTokenInstance)")
    await token_input.fill(fake_green_api.token)
    await expect(token_input).to_have_attribute("type", "password")
    await page.get_by_label("API URL (apiUrl)").fill(fake_green_api.base_url)
    await page.get_by_label("Name (optional)").fill("Lisbon office")
    await page.get_by_role("button", name="Connect", exact=True).click()

    await page.wait_for_url("**/channels?*done=channel-connected")
    await expect(page.get_by_role("status").filter(has_text="Channel connected.")).to_be_visible()
    card = page.get_by_role("listitem").filter(has_text="Lisbon office")
    await expect(card.get_by_text("Connected: WhatsApp is linked.")).to_be_visible()
    await expect(card.get_by_text("Linked", exact=True)).to_be_visible()
    webhook_url = f"{settings.public_base_url}/webhooks/green-api"
    await expect(card.get_by_label("Webhook URL", exact=True)).to_have_value(webhook_url)
    token = await card.get_by_label("Webhook token", exact=True).input_value()
    assert len(token) >= 16
    assert await fits_the_width(page)
    await screenshot(page, "channels-375")

    fake_green_api.state_instance = "notAuthorized"
    await card.get_by_role("button", name="Check connection").click()
    await expect(card.get_by_role("alert")).to_contain_text("scan its QR code")
    await expect(card.get_by_text("Not linked", exact=True)).to_be_visible()

    await card.get_by_text("Disconnect…").click()
    await card.get_by_role("button", name="Disconnect Lisbon office").click()
    await expect(
        page.get_by_role("status").filter(has_text="Channel disconnected.")
    ).to_be_visible()
    await expect(page.get_by_text("No WhatsApp number is connected yet.")).to_be_visible()


async def test_settings_on_a_laptop(sign_in: SignIn, api_account: ApiAccount) -> None:
    page = await sign_in(api_account, viewport=DESKTOP)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    await expect(page.get_by_text(f"Signed in as {api_account.email}")).to_be_visible()

    await page.get_by_label("Hand conversations back to the assistant after").fill("6")
    await page.get_by_label("When I write to a customer from my phone").uncheck()
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()
    await expect(page.get_by_label("Hand conversations back to the assistant after")).to_have_value(
        "6"
    )
    await expect(page.get_by_label("When I write to a customer from my phone")).not_to_be_checked()

    await page.get_by_label("Key name").fill("Website sync")
    await page.get_by_role("button", name="Create API key").click()
    await expect(page.get_by_text("it will not be shown again")).to_be_visible()
    key = await page.get_by_label("API key", exact=True).input_value()
    assert key.startswith("wa_")
    await screenshot(page, "settings-1280")


async def test_agent_connects_a_meta_number_on_a_phone(
    sign_in: SignIn, api_account: ApiAccount, fake_meta_graph: FakeMetaGraph, settings: Settings
) -> None:
    """Checked against Graph before it is saved; a refused token saves nothing and no secret
    typed is shown back."""
    page = await sign_in(api_account)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Channels").click()

    async def fill(token: str) -> None:
        await page.get_by_label("Phone number id").fill(fake_meta_graph.phone_number_id)
        await page.get_by_label("WhatsApp Business Account id").fill(WABA_ID)
        await page.get_by_label("Access token").fill(token)
        await page.get_by_label("App secret").fill("meta-app-secret-0123456789abcdef")
        await page.get_by_label("Verify token").fill("meta-verify-token-0123456789")
        await page.get_by_label("Graph URL (optional)").fill(fake_meta_graph.base_url)
        await page.get_by_label("Name of this number (optional)").fill("Meta line")
        await page.get_by_role("button", name="Connect the Meta number").click()

    await fill("not-the-right-token")
    await expect(page.get_by_text("Nothing was connected.")).to_be_visible()
    await expect(page.get_by_text("The provider refused this access token")).to_be_visible()
    for secret in ("Access token", "App secret", "Verify token"):
        await expect(page.get_by_label(secret)).to_have_value("")
        await expect(page.get_by_label(secret)).to_have_attribute("type", "password")
    assert "meta-app-secret-0123456789abcdef" not in await page.content()
    assert await fits_the_width(page)

    await fill(fake_meta_graph.token)
    await page.wait_for_url("**/channels?*done=channel-connected")
    card = page.get_by_role("listitem").filter(has_text="Meta line")
    await expect(card.get_by_text("Meta Cloud API")).to_be_visible()
    await expect(card.get_by_label("Callback URL")).to_have_value(
        f"{settings.public_base_url}/webhooks/meta"
    )
    await expect(card.get_by_text("Meta has reported no billable message")).to_be_visible()
    html = await page.content()
    assert fake_meta_graph.token not in html
    assert "meta-app-secret-0123456789abcdef" not in html
    assert await fits_the_width(page)
    await screenshot(page, "channels-meta-375")

    await card.get_by_role("link", name="Choose templates").click()
    await page.get_by_label("Template").first.select_option("follow_up|en_US")
    await page.get_by_role("button", name="Save the Follow-up template").click()
    await expect(page.get_by_role("status").filter(has_text="Template saved.")).to_be_visible()
    await expect(page.get_by_text("Now: follow_up (en_US)")).to_be_visible()
    assert await fits_the_width(page)
