"""Received files in the thread (docs/decisions.md, 31): shown behind the account's session at
/media/<message id>, with the stored type, a safe name and nosniff; never to another account
or to nobody."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ApiAccount
from tests.conversations.harness import Service
from tests.conversations.test_media_in import JPEG, OGG, PDF, file_message, green_file, verdict
from tests.fakes.green_api import FakeGreenAPI
from tests.web.signin import sign_in
from whatsapp_assistant.conversations.models import Message


async def _thread(service: Service) -> str:
    [conversation] = await service.conversations()
    return f"/inbox/{conversation.id}"


async def _received(service: Service, payload: dict[str, object]) -> Message:
    await service.post_webhook(payload)
    await verdict(service)
    return await file_message(service)


class TestServedBehindTheSession:
    async def test_a_picture_is_served_inline_with_its_type_and_nosniff(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        message = await _received(service, green_file(fake_green_api, JPEG, caption="this one"))
        await sign_in(service.client, service.account.email)

        response = await service.client.get(f"/media/{message.id}")

        assert response.status_code == 200
        assert response.content == JPEG
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.headers["x-content-type-options"] == "nosniff"
        thread = await service.client.get(await _thread(service))
        assert re.search(rf'<img src="/media/{message.id}"[^>]*loading="lazy"', thread.text)
        assert "this one" in thread.text
        listed = await service.client.get(
            f"/api/v1/conversations/{message.conversation_id}/messages",
            headers=service.account.headers,
        )
        [shown] = [m for m in listed.json() if m["id"] == str(message.id)]
        assert shown["data"]["media"]["status"] == "stored"
        assert "path" not in shown["data"]["media"]  # where it is kept stays inside

    async def test_a_document_is_an_attachment_under_its_safe_name(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(
            fake_green_api,
            PDF,
            kind="documentMessage",
            mime="application/pdf",
            file_name='../../etc/"contrato"\x00.pdf',
        )
        message = await _received(service, payload)
        await sign_in(service.client, service.account.email)

        response = await service.client.get(f"/media/{message.id}")

        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="_contrato_.pdf"'), disposition
        assert response.headers["content-type"] == "application/pdf"
        assert response.content == PDF
        thread = await service.client.get(await _thread(service))
        assert "📎 _contrato_.pdf" in thread.text
        assert "1 KB" in thread.text

    async def test_a_voice_note_gets_a_player_and_its_transcript_when_there_is_one(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        payload = green_file(fake_green_api, OGG, kind="audioMessage", mime="audio/ogg")
        message = await _received(service, payload)
        async with service.db.session_scope() as session:
            row = await session.get(Message, message.id)
            assert row is not None
            row.data = row.data | {"transcript": "Is the flat still free?"}
        await sign_in(service.client, service.account.email)

        thread = await service.client.get(await _thread(service))

        assert f'<audio controls preload="none" src="/media/{message.id}">' in thread.text
        assert "Is the flat still free?" in thread.text
        served = await service.client.get(f"/media/{message.id}")
        assert served.headers["content-disposition"].startswith("inline;")

    async def test_signed_out_goes_to_the_login_page(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        message = await _received(service, green_file(fake_green_api, JPEG))

        response = await service.client.get(f"/media/{message.id}")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")

    async def test_another_account_gets_404(
        self, service: Service, fake_green_api: FakeGreenAPI, other_account: ApiAccount
    ) -> None:
        message = await _received(service, green_file(fake_green_api, JPEG))
        await sign_in(service.client, other_account.email)

        response = await service.client.get(f"/media/{message.id}")

        assert response.status_code == 404
        assert "not yours" in response.text
        assert JPEG[:64] not in response.content

    @pytest.mark.parametrize("wrong", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
    async def test_a_wrong_id_answers_an_error_and_no_file(
        self, service: Service, wrong: str
    ) -> None:
        await sign_in(service.client, service.account.email)
        response = await service.client.get(f"/media/{wrong}")
        assert response.status_code in (404, 422)
        assert "x-content-type-options" not in response.headers or response.status_code != 200


class TestWhatTheThreadSays:
    async def test_a_file_still_downloading_says_so(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.delay_next(2.0)
        await service.post_webhook(green_file(fake_green_api, JPEG))
        await sign_in(service.client, service.account.email)

        thread = await service.client.get(await _thread(service))

        assert "Downloading…" in thread.text
        await verdict(service)

    async def test_a_file_too_large_to_keep_says_so_with_its_size(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        message = await _received(service, green_file(fake_green_api, JPEG))
        async with service.db.session_scope() as session:
            row = await session.get(Message, message.id)
            assert row is not None
            row.data = row.data | {"media": {"status": "too_large", "size": 23 * 1024 * 1024}}
        await sign_in(service.client, service.account.email)

        thread = await service.client.get(await _thread(service))

        assert "File too large to keep (23 MB) — open it on your phone" in thread.text
        assert (await service.client.get(f"/media/{message.id}")).status_code == 404

    async def test_a_refused_or_failed_file_says_so(
        self, service: Service, fake_green_api: FakeGreenAPI
    ) -> None:
        svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
        message = await _received(service, green_file(fake_green_api, svg, mime="image/png"))
        await sign_in(service.client, service.account.email)

        thread = await service.client.get(await _thread(service))
        assert "A image of a type not kept here — open it on your phone" not in thread.text
        assert "An image of a type not kept here — open it on your phone" in thread.text
        async with service.db.session_scope() as session:
            row = await session.get(Message, message.id)
            assert row is not None
            row.data = row.data | {"media": {"status": "failed"}}
        thread = await service.client.get(await _thread(service))
        assert "The image could not be downloaded — open it on your phone" in thread.text
