"""The core loop: a customer's WhatsApp message in, a grounded AI reply out through Green API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.builders import create_property
from tests.conftest import ApiAccount
from tests.conversations.harness import (
    JAMES,
    Service,
    drained,
    eventually,
    fixture,
    start_service,
)
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.green_api import FakeGreenAPI
from tests.settings import tuned
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database


@pytest.fixture
async def listings(db: Database, api_account: ApiAccount, other_account: ApiAccount) -> None:
    async with db.session_scope() as session:
        await create_property(session, api_account.account_id)
        await create_property(
            session,
            api_account.account_id,
            title="Quiet T2 in Campo de Ourique",
            neighborhood="Campo de Ourique",
            price=Decimal(398000),
            bathrooms=2,
        )
        await create_property(
            session,
            api_account.account_id,
            title="Cascais villa",
            city="Cascais",
            neighborhood=None,
            price=Decimal(1_900_000),
            bedrooms=5,
        )
        # Another agency's listing in the same city: it must never reach this account's prompt.
        await create_property(
            session,
            other_account.account_id,
            title="Rival penthouse in Graça",
            price=Decimal(390000),
        )


@pytest.fixture
def claude_settings(settings: Settings, fake_anthropic: FakeAnthropic) -> Settings:
    return tuned(
        settings,
        llm_provider="anthropic",
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        llm_max_retries=0,
    )


@pytest.fixture
async def service(
    claude_settings: Settings,
    db: Database,
    api_account: ApiAccount,
    fake_green_api: FakeGreenAPI,
    listings: None,
) -> AsyncIterator[Service]:
    async for running in start_service(claude_settings, db, api_account, fake_green_api):
        yield running


class TestCustomerMessageToReply:
    async def test_reply_names_a_real_listing_and_goes_out_through_green_api(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        response = await service.post_webhook(fixture("incoming_text"))
        assert response.status_code == 200

        sent = await service.wait_for_sends(1)
        assert sent[0]["chatId"] == JAMES
        assert "Sunny T2 in Graça with terrace" in sent[0]["message"]
        assert "Rival penthouse" not in sent[0]["message"]
        tool_rounds = [b for b in fake_anthropic.bodies if "tool_result" in str(b["messages"])]
        assert tool_rounds, "the reply was not built from a search_properties tool result"

    async def test_another_accounts_listing_never_reaches_the_model(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        for body in fake_anthropic.bodies:
            assert "Rival penthouse" not in str(body)

    async def test_customer_text_goes_in_as_a_message_not_into_the_system_prompt(
        self, service: Service, fake_anthropic: FakeAnthropic
    ) -> None:
        await service.post_webhook(fixture("incoming_text"))
        await service.wait_for_sends(1)
        first = fake_anthropic.bodies[0]
        assert "moving to Lisbon" not in str(first["system"])
        assert "moving to Lisbon" in str(first["messages"])
        assert "temperature" not in first

    async def test_outbound_message_is_stored_with_the_providers_id(self, service: Service) -> None:
        await service.post_webhook(fixture("incoming_text"))
        sent = await service.wait_for_sends(1)

        async def marked_sent() -> bool:
            return [m.status for m in await service.messages(direction="out")] == ["sent"]

        await eventually(marked_sent)
        out = await service.messages(direction="out")
        assert len(out) == 1
        assert out[0].author == "ai"
        assert out[0].status == "sent"
        assert out[0].provider_message_id is not None
        assert out[0].provider_message_id.startswith("3EB0")
        assert out[0].text == sent[0]["message"]


class TestRedelivery:
    async def test_same_webhook_twice_is_stored_once_and_answered_once(
        self, service: Service
    ) -> None:
        first = await service.post_webhook(fixture("incoming_text"))
        second = await service.post_webhook(fixture("incoming_text"))
        assert first.status_code == second.status_code == 200
        assert second.json()["status"] == "duplicate"
        await service.wait_for_sends(1)
        await drained(service)
        assert len(service.green_api.sent_messages) == 1
        assert len(await service.messages(author="customer")) == 1
