"""The Channels page: connect a Green API instance, paste its webhook, check it, remove it."""

from __future__ import annotations

import asyncio
import html
import re
import socket
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from tests.conftest import ApiAccount
from tests.conversations.harness import eventually, fixture
from tests.fakes.green_api import FakeGreenAPI
from tests.web.signin import sign_in
from whatsapp_assistant.accounts.models import UserSession
from whatsapp_assistant.channels import service as channels_service
from whatsapp_assistant.channels.models import Channel
from whatsapp_assistant.config import Settings
from whatsapp_assistant.conversations.models import Conversation, Message
from whatsapp_assistant.db.session import Database
from whatsapp_assistant.kit.clock import utcnow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_WEBHOOK_TOKEN = re.compile(r'id="webhook-token-[^"]+" type="text" value="([^"]+)"')
_WEBHOOK_URL = re.compile(r'id="webhook-url-[^"]+"[^>]*>([^<]+)</textarea>')

LINKED = "Connected: WhatsApp is linked."
REFUSED = "Green API refused the instance id or token."
QR_ADVICE = "scan its QR code with your phone"


def closed_port_url() -> str:
    """A loopback URL nobody listens on: the port was free a moment ago and is closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def text_of(response: httpx.Response) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(html.unescape(without_tags).split())


async def csrf(client: httpx.AsyncClient) -> str:
    match = _CSRF.search((await client.get("/channels")).text)
    assert match is not None
    return match.group(1)


async def connect(
    client: httpx.AsyncClient, fake: FakeGreenAPI | None, **overrides: str
) -> httpx.Response:
    form = {
        "id_instance": fake.id_instance if fake else "1101823456",
        "api_token": fake.token if fake else "test-token",
        "api_url": fake.base_url if fake else "",
        "name": "Lisbon office",
        "csrf_token": await csrf(client),
    }
    return await client.post("/channels", data=form | overrides)


async def stored_channels(db: Database) -> list[Channel]:
    async with db.session_scope() as session:
        return list((await session.execute(select(Channel))).scalars().all())


async def _status_of(db: Database, text: str, status: str) -> bool:
    async with db.session_scope() as session:
        found = await session.execute(select(Message.status).where(Message.text == text))
        return found.scalar_one_or_none() == status


async def press(client: httpx.AsyncClient, channel: Channel, action: str) -> httpx.Response:
    """A channel card's button: check or disconnect, then the page the redirect leads to."""
    posted = await client.post(
        f"/channels/{channel.id}/{action}", data={"csrf_token": await csrf(client)}
    )
    assert posted.status_code == 303, posted.text
    return await client.get(posted.headers["location"])


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, api_account: ApiAccount) -> httpx.AsyncClient:
    await sign_in(client, api_account.email)
    return client


class TestConnect:
    async def test_connected_channel_is_listed_with_the_webhook_to_paste(
        self,
        signed_in: httpx.AsyncClient,
        fake_green_api: FakeGreenAPI,
        settings: Settings,
        db: Database,
    ) -> None:
        posted = await connect(signed_in, fake_green_api)
        assert posted.status_code == 303
        page = await signed_in.get(posted.headers["location"])

        text = text_of(page)
        assert "Channel connected." in text
        assert LINKED in text
        assert "Lisbon office" in text and "1101823456" in text
        [channel] = await stored_channels(db)
        url = _WEBHOOK_URL.search(page.text)
        token = _WEBHOOK_TOKEN.search(page.text)
        assert url is not None and url.group(1) == f"{settings.public_base_url}/webhooks/green-api"
        assert token is not None and token.group(1) == channel.webhook_token
        assert fake_green_api.token not in page.text  # the API token never comes back
        assert [r.path.split("/")[2] for r in fake_green_api.requests] == ["getStateInstance"]

    async def test_the_webhook_token_shown_is_the_one_green_api_must_send(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI
    ) -> None:
        page = await signed_in.get((await connect(signed_in, fake_green_api)).headers["location"])
        token = _WEBHOOK_TOKEN.search(page.text)
        assert token is not None
        body = {
            "typeWebhook": "stateInstanceChanged",
            "instanceData": {"idInstance": 1101823456, "wid": "", "typeInstance": "whatsapp"},
            "timestamp": 1795001200,
            "stateInstance": "notAuthorized",
        }
        wrong = await signed_in.post(
            "/webhooks/green-api", json=body, headers={"Authorization": "Bearer not-it"}
        )
        assert wrong.status_code == 401
        right = await signed_in.post(
            "/webhooks/green-api", json=body, headers={"Authorization": f"Bearer {token.group(1)}"}
        )
        assert right.status_code == 200
        assert "Not linked" in text_of(await signed_in.get("/channels"))

    async def test_empty_instance_id_is_shown_at_the_field_and_nothing_is_saved(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        response = await connect(signed_in, fake_green_api, id_instance="")
        assert response.status_code == 422
        assert 'id="f-id_instance-error"' in response.text
        assert "Enter the instance id" in text_of(response)
        assert f'value="{fake_green_api.base_url}"' in response.text  # typed values kept
        assert 'value="Lisbon office"' in response.text
        assert fake_green_api.token not in response.text  # except the token
        assert await stored_channels(db) == []
        assert fake_green_api.requests == []

    async def test_token_green_api_refuses_is_not_saved(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        response = await connect(signed_in, fake_green_api, api_token="wrong-token-123")
        assert response.status_code == 422
        assert REFUSED in text_of(response)
        assert 'id="f-api_token-error"' in response.text
        assert "wrong-token-123" not in response.text
        assert await stored_channels(db) == []

    async def test_same_instance_twice_is_refused_at_the_field(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        again = await connect(signed_in, fake_green_api, name="Second")
        assert again.status_code == 409
        assert "This Green API instance is already connected." in text_of(again)
        assert len(await stored_channels(db)) == 1

    async def test_without_csrf_is_refused_and_saves_nothing(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        response = await connect(signed_in, fake_green_api, csrf_token="")
        assert response.status_code == 403
        assert await stored_channels(db) == []
        assert fake_green_api.requests == []


class TestCheckConnection:
    async def test_linked_instance(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        page = await press(signed_in, channel, "check")
        assert LINKED in text_of(page)
        assert len(fake_green_api.requests) == 2

    async def test_lost_link_says_to_scan_the_qr_code(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        fake_green_api.state_instance = "notAuthorized"
        [channel] = await stored_channels(db)
        text = text_of(await press(signed_in, channel, "check"))
        assert QR_ADVICE in text
        assert "Not linked" in text
        assert LINKED not in text
        [channel] = await stored_channels(db)
        assert channel.state == "notAuthorized"

    async def test_token_green_api_no_longer_accepts(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        fake_green_api.token = "regenerated-in-the-console"
        [channel] = await stored_channels(db)
        text = text_of(await press(signed_in, channel, "check"))
        assert REFUSED in text
        assert LINKED not in text

    async def test_unreachable_green_api_names_the_address(
        self, signed_in: httpx.AsyncClient, db: Database
    ) -> None:
        down = closed_port_url()
        connected = await connect(signed_in, None, api_url=down)
        assert connected.status_code == 303  # a passing outage does not stop the connection
        page = await signed_in.get(connected.headers["location"])
        assert f"Could not reach {down}" in text_of(page)

        [channel] = await stored_channels(db)
        assert f"Could not reach {down}" in text_of(await press(signed_in, channel, "check"))

    async def test_slow_green_api_is_given_up_on_in_time(
        self,
        signed_in: httpx.AsyncClient,
        fake_green_api: FakeGreenAPI,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        monkeypatch.setattr(channels_service, "CHECK_DEADLINE_SECONDS", 0.5)
        fake_green_api.delay_next(3)
        text = text_of(await press(signed_in, channel, "check"))
        assert f"Could not reach {fake_green_api.base_url}" in text

    async def test_webhooks_are_not_held_up_while_green_api_takes_its_time(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        page = await signed_in.get((await connect(signed_in, fake_green_api)).headers["location"])
        token = _WEBHOOK_TOKEN.search(page.text)
        assert token is not None
        [channel] = await stored_channels(db)
        form = {"csrf_token": await csrf(signed_in)}
        async with db.session_scope() as session:  # so the check's request notes the visit
            await session.execute(
                update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=5))
            )
        fake_green_api.delay_next(3)
        checking = asyncio.create_task(signed_in.post(f"/channels/{channel.id}/check", data=form))
        await asyncio.sleep(0.3)  # the check is waiting on Green API now
        webhook = await signed_in.post(
            "/webhooks/green-api",
            json=fixture("incoming_text"),
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
        assert webhook.status_code == 200
        # Stored and answered while the check still waits: it held no lock the webhook needed.
        assert not checking.done()
        checked = await checking
        assert checked.status_code == 303
        assert LINKED in text_of(await signed_in.get(checked.headers["location"]))

    async def test_other_errors_name_the_status(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        fake_green_api.fail_next(466)  # the free plan's quota is used up: not retried
        text = text_of(await press(signed_in, channel, "check"))
        assert "Green API answered with an error (HTTP 466)." in text
        assert LINKED not in text


class TestDisconnect:
    async def test_disconnect_stops_the_number_and_keeps_its_conversations(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        page = await signed_in.get((await connect(signed_in, fake_green_api)).headers["location"])
        token = _WEBHOOK_TOKEN.search(page.text)
        assert token is not None
        hook = {"Authorization": f"Bearer {token.group(1)}"}
        incoming = fixture("incoming_text")
        assert (await signed_in.post("/webhooks/green-api", json=incoming, headers=hook)).is_success
        [channel] = await stored_channels(db)

        text = text_of(await press(signed_in, channel, "disconnect"))
        assert "Channel disconnected." in text
        assert "Lisbon office" not in text
        assert "No WhatsApp number is connected yet." in text
        [kept] = await stored_channels(db)
        assert (kept.active, kept.api_token) == (False, "")
        # Nothing is lost: the conversation stays in the inbox...
        assert "James Whitfield" in text_of(await signed_in.get("/inbox"))
        # ...but the number's webhooks are refused from now on.
        again = fixture("incoming_text") | {"idMessage": "3EB0DISCONNECTED0001"}
        refused = await signed_in.post("/webhooks/green-api", json=again, headers=hook)
        assert refused.status_code == 401

        # What the agent still writes there fails visibly instead of vanishing.
        async with db.session_scope() as session:
            [conversation_id] = (await session.execute(select(Conversation.id))).scalars()
        sent = await signed_in.post(
            f"/inbox/{conversation_id}/messages",
            data={"text": "Still there?", "csrf_token": await csrf(signed_in)},
        )
        assert sent.status_code == 303
        await eventually(lambda: _status_of(db, "Still there?", "failed"))
        thread = text_of(await signed_in.get(f"/inbox/{conversation_id}"))
        assert "Not sent: the number was disconnected" in thread

        # Connecting the same instance again carries on with the same conversations.
        assert (await connect(signed_in, fake_green_api)).status_code == 303
        [revived] = await stored_channels(db)
        assert (revived.id, revived.active) == (channel.id, True)
        assert revived.api_token == fake_green_api.token

    async def test_without_csrf_nothing_changes(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        response = await signed_in.post(f"/channels/{channel.id}/disconnect", data={})
        assert response.status_code == 403
        assert len(await stored_channels(db)) == 1


class TestReceiveMode:
    async def test_polling_is_chosen_on_the_page_and_its_setup_is_shown(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        assert "Send its messages here" in text_of(await signed_in.get("/channels"))

        posted = await signed_in.post(
            f"/channels/{channel.id}/receive-mode",
            data={"receive_mode": "polling", "csrf_token": await csrf(signed_in)},
        )
        assert posted.status_code == 303, posted.text
        page = await signed_in.get(posted.headers["location"])

        text = text_of(page)
        assert "Messages arrive the chosen way within a few seconds." in text
        assert "Let this server fetch its messages" in text
        assert "Send its messages here" not in text
        assert 'value="polling" checked' in page.text
        [saved] = await stored_channels(db)
        assert saved.receive_mode == "polling"

    async def test_an_unknown_mode_changes_nothing(
        self, signed_in: httpx.AsyncClient, fake_green_api: FakeGreenAPI, db: Database
    ) -> None:
        await connect(signed_in, fake_green_api)
        [channel] = await stored_channels(db)
        posted = await signed_in.post(
            f"/channels/{channel.id}/receive-mode",
            data={"receive_mode": "fax", "csrf_token": await csrf(signed_in)},
        )
        assert posted.status_code == 422
        [kept] = await stored_channels(db)
        assert kept.receive_mode == "webhook"


class TestAnotherAccount:
    async def test_cannot_check_nor_disconnect_another_accounts_channel(
        self,
        client: httpx.AsyncClient,
        api_account: ApiAccount,
        other_account: ApiAccount,
        fake_green_api: FakeGreenAPI,
        db: Database,
    ) -> None:
        await sign_in(client, api_account.email)
        await connect(client, fake_green_api)
        [channel] = await stored_channels(db)
        asked = len(fake_green_api.requests)

        client.cookies.clear()
        await sign_in(client, other_account.email)
        assert "Lisbon office" not in text_of(await client.get("/channels"))
        for action in ("check", "disconnect", "receive-mode"):
            response = await client.post(
                f"/channels/{channel.id}/{action}",
                data={"csrf_token": await csrf(client), "receive_mode": "polling"},
            )
            assert response.status_code == 404
            assert "Not found" in response.text
        [still] = await stored_channels(db)
        assert (still.id, still.state, still.receive_mode) == (channel.id, "authorized", "webhook")
        assert len(fake_green_api.requests) == asked


async def test_signed_out_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/channels")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
