"""Listings of two accounts for the AI tests, and LLM settings pointed at the loopback fakes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.builders import create_account, create_property
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from whatsapp_assistant.ai.tools import AccountTools
from whatsapp_assistant.ai.types import PersonaSpec, ReplyRequest, Turn
from whatsapp_assistant.config import AnthropicSettings, LLMSettings, OpenAISettings
from whatsapp_assistant.db.session import Database

GRACA = "Sunny T2 in Graça with terrace"
OURIQUE = "Family T3 in Campo de Ourique"
CASCAIS = "Villa with pool in Cascais"
ALFAMA = "Bright T1 for rent in Alfama"
PORTO = "Modern flat near Ribeira"
TRIANA = "Piso luminoso en Triana"
SOLD = "Sold penthouse in Graça"
RIVAL = "Rival loft in Graça"  # another account's listing: must never reach any model

PERSONA = PersonaSpec(style="friendly", agent_name="Rita Almeida", agency_name="Casa Lusa Imóveis")


@dataclass(frozen=True)
class Listings:
    account_id: uuid.UUID
    other_account_id: uuid.UUID
    tools: AccountTools


@pytest.fixture
async def listings(db: Database) -> Listings:
    async with db.session_scope() as session:
        account = await create_account(session)
        other = await create_account(session, name="Rival Homes")
        await create_property(session, account.id)  # GRACA, €372,000, 2 bedrooms, sale
        await create_property(
            session,
            account.id,
            title=OURIQUE,
            neighborhood="Campo de Ourique",
            price=Decimal(545000),
            bedrooms=3,
        )
        await create_property(
            session,
            account.id,
            title=CASCAIS,
            city="Cascais",
            neighborhood="Quinta da Marinha",
            property_type="villa",
            price=Decimal(1250000),
            bedrooms=4,
        )
        await create_property(
            session,
            account.id,
            title=ALFAMA,
            neighborhood="Alfama",
            listing_type="rent",
            price=Decimal(1400),
            bedrooms=1,
        )
        await create_property(
            session,
            account.id,
            title=PORTO,
            city="Porto",
            neighborhood="Ribeira",
            listing_type="rent",
            price=Decimal(1100),
            bedrooms=2,
        )
        await create_property(
            session,
            account.id,
            title=TRIANA,
            city="Sevilla",
            neighborhood="Triana",
            price=Decimal(285000),
            bedrooms=2,
        )
        await create_property(session, account.id, title=SOLD, status="sold", price=Decimal(390000))
        await create_property(session, other.id, title=RIVAL, price=Decimal(350000))
    return Listings(account.id, other.id, AccountTools(db, account.id))


def ask(*texts: str, persona: PersonaSpec = PERSONA, contact_name: str = "") -> ReplyRequest:
    """A request whose history is just these customer messages."""
    return ReplyRequest(
        persona=persona, history=[Turn("user", text) for text in texts], contact_name=contact_name
    )


def _split(prefix: str, values: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """Shared model settings, and the SDK's own ones (named `<prefix>_<field>`, as in the env)."""
    own = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
    shared = {k: v for k, v in values.items() if not k.startswith(prefix)}
    return shared, own


def anthropic_settings(
    fake: FakeAnthropic, **overrides: object
) -> tuple[LLMSettings, AnthropicSettings]:
    values: dict[str, object] = {
        "anthropic_api_key": "test-key",
        "anthropic_base_url": fake.base_url,
        "max_retries": 0,
        "timeout_seconds": 5.0,
    }
    shared, own = _split("anthropic_", values | overrides)
    return LLMSettings.model_validate(shared), AnthropicSettings.model_validate(own)


def openai_settings(fake: FakeOpenAI, **overrides: object) -> tuple[LLMSettings, OpenAISettings]:
    values: dict[str, object] = {
        "provider": "openai",
        "openai_base_url": fake.base_url,
        "openai_model": "llama3.2",
        "max_retries": 0,
        "timeout_seconds": 5.0,
    }
    shared, own = _split("openai_", values | overrides)
    return LLMSettings.model_validate(shared), OpenAISettings.model_validate(own)
