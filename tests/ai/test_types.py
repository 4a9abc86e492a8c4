"""The neutral AI shapes built from the database rows."""

from __future__ import annotations

import uuid

from whatsapp_assistant.accounts.models import Persona
from whatsapp_assistant.ai.types import PersonaSpec


class TestPersonaSpecFromModel:
    def test_copies_every_persona_field(self) -> None:
        row = Persona(
            account_id=uuid.uuid4(),
            style="premium",
            agent_name="Rita Almeida",
            agency_name="Casa Lusa Imóveis",
            custom_instructions="Mention the metro.",
            default_language="pt",
        )

        assert PersonaSpec.from_model(row) == PersonaSpec(
            style="premium",
            agent_name="Rita Almeida",
            agency_name="Casa Lusa Imóveis",
            custom_instructions="Mention the metro.",
            default_language="pt",
        )
