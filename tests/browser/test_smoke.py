from tests.browser.conftest import SignIn, screenshot
from tests.conftest import ApiAccount


async def test_sign_in_lands_on_the_inbox(sign_in: SignIn, api_account: ApiAccount) -> None:
    page = await sign_in(api_account)
    assert await page.get_by_role("heading", name="Inbox").is_visible()
    await screenshot(page, "smoke")
