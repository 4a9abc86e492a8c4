"""The fake Green API itself: it answers like the reference says, from plain sync code too."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.green_api import CHAT_ID_FORMAT_ERROR, FakeGreenAPI

SEND = "/waInstance1101823456/sendMessage/test-token"
STATE = "/waInstance1101823456/getStateInstance/test-token"


def post(fake: FakeGreenAPI, body: object, path: str = SEND) -> httpx.Response:
    return httpx.post(fake.base_url + path, json=body, timeout=5)


class TestFakeSendMessage:
    def test_accepts_a_valid_send_and_records_it(self, fake_green_api: FakeGreenAPI) -> None:
        response = post(fake_green_api, {"chatId": "351912345678@c.us", "message": "Olá"})
        assert response.status_code == 200
        id_message = response.json()["idMessage"]
        assert id_message.startswith("3EB0")
        assert len(id_message) == 20
        assert fake_green_api.sent_messages == [{"chatId": "351912345678@c.us", "message": "Olá"}]
        assert fake_green_api.requests[0].path == SEND

    def test_accepts_group_chats(self, fake_green_api: FakeGreenAPI) -> None:
        response = post(fake_green_api, {"chatId": "120363043968066561@g.us", "message": "x"})
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ({"message": "hi"}, "'chatId' is required"),
            ({"chatId": "+351912345678", "message": "hi"}, CHAT_ID_FORMAT_ERROR),
            ({"chatId": "351912345678@c.us"}, "'message' is required"),
            (
                {"chatId": "351912345678@c.us", "message": ""},
                "'message' is not allowed to be empty",
            ),
            (
                {"chatId": "351912345678@c.us", "message": "a" * 20_001},
                "'message' length must be less than or equal to 20000 characters long",
            ),
            (
                {"chatId": "351912345678@c.us", "message": "hi", "colour": "red"},
                "'colour' is not allowed",
            ),
            (
                {"chatId": "351912345678@c.us", "message": "hi", "quotedMessageId": "short"},
                "'message id' must be at least 16 symbols",
            ),
        ],
    )
    def test_rejects_invalid_bodies_with_green_api_texts(
        self, fake_green_api: FakeGreenAPI, body: dict[str, object], problem: str
    ) -> None:
        response = post(fake_green_api, body)
        assert response.status_code == 400
        assert problem in response.json()["message"]
        assert fake_green_api.sent_messages == []

    def test_wrong_token_is_401(self, fake_green_api: FakeGreenAPI) -> None:
        path = "/waInstance1101823456/sendMessage/other"
        assert post(fake_green_api, {"chatId": "1@c.us", "message": "x"}, path).status_code == 401

    def test_wrong_instance_is_403(self, fake_green_api: FakeGreenAPI) -> None:
        path = "/waInstance42/sendMessage/test-token"
        assert post(fake_green_api, {"chatId": "1@c.us", "message": "x"}, path).status_code == 403

    def test_unknown_method_is_404(self, fake_green_api: FakeGreenAPI) -> None:
        path = "/waInstance1101823456/sendTelegram/test-token"
        assert post(fake_green_api, {}, path).status_code == 404


class TestFakeProgramming:
    def test_fail_next_answers_the_given_status_count_times(
        self, fake_green_api: FakeGreenAPI
    ) -> None:
        fake_green_api.fail_next(429, count=2, body={"message": "slow down"})
        body = {"chatId": "351912345678@c.us", "message": "hi"}
        statuses = [post(fake_green_api, body).status_code for _ in range(3)]
        assert statuses == [429, 429, 200]
        assert len(fake_green_api.requests) == 3
        assert len(fake_green_api.sent_messages) == 1

    def test_delay_next_holds_the_request(self, fake_green_api: FakeGreenAPI) -> None:
        fake_green_api.delay_next(0.5)
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(fake_green_api.base_url + STATE, timeout=0.1)

    def test_state_is_configurable(self, fake_green_api: FakeGreenAPI) -> None:
        assert httpx.get(fake_green_api.base_url + STATE).json() == {"stateInstance": "authorized"}
        fake_green_api.state_instance = "blocked"
        assert httpx.get(fake_green_api.base_url + STATE).json() == {"stateInstance": "blocked"}
