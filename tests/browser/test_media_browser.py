"""A thread with a photo, a document and a voice note at 375 px: the photo loads and fits, the
document is a link with its name and size, the voice note a player, and nothing scrolls
sideways (docs/decisions.md, 31)."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import httpx
from playwright.async_api import expect
from sqlalchemy import select

from tests.browser.conftest import PHONE, SignIn, screenshot
from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import WEBHOOK_TOKEN, eventually
from tests.conversations.test_media_in import OGG, PDF, green_file
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.conversations.models import Message
from whatsapp_assistant.db.session import Database


def wide_png(width: int = 1200, height: int = 800) -> bytes:
    """A real picture three times as wide as the phone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes([40, 120, 200]) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def _post(http: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    response = await http.post(
        "/webhooks/green-api",
        content=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def test_a_thread_with_a_photo_a_document_and_a_voice_note_fits_a_phone(
    sign_in: SignIn,
    api_account: ApiAccount,
    live_server: str,
    fake_green_api: FakeGreenAPI,
    db: Database,
) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        connected = await http.post(
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
        assert connected.status_code == 201, connected.text
        await _post(
            http,
            green_file(
                fake_green_api, wide_png(), mime="image/png", caption="The view from the street"
            ),
        )
        await _post(
            http,
            green_file(
                fake_green_api,
                PDF,
                kind="documentMessage",
                mime="application/pdf",
                file_name="proposta de compra com um nome bastante comprido 2026.pdf",
            ),
        )
        await _post(http, green_file(fake_green_api, OGG, kind="audioMessage", mime="audio/ogg"))

    async def all_fetched() -> bool:
        async with db.session_scope() as session:
            rows = (await session.execute(select(Message.data))).scalars().all()
        return sum(1 for data in rows if "media" in data) == 3

    await eventually(all_fetched)

    page = await sign_in(api_account, viewport=PHONE)
    await page.get_by_role("link", name="James Whitfield").click()
    await page.wait_for_url("**/inbox/*")

    photo = page.locator("#messages img[loading='lazy']")
    await expect(photo).to_have_count(1)
    await photo.scroll_into_view_if_needed()
    await page.wait_for_function(
        "document.querySelector(\"#messages img[loading='lazy']\").naturalWidth === 1200"
    )
    box = await photo.bounding_box()
    assert box is not None and 0 < box["width"] <= PHONE["width"] - 20
    await expect(page.locator("#messages a.file")).to_contain_text("proposta de compra")
    await expect(page.locator("#messages .file-size")).to_have_text("1 KB")
    await expect(page.locator("#messages audio[controls]")).to_have_count(1)
    player = await page.locator("#messages audio[controls]").bounding_box()
    assert player is not None and player["x"] + player["width"] <= PHONE["width"]
    sideways = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert sideways <= 0
    await screenshot(page, "thread-media-375")
