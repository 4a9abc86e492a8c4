"""The offline provider: rules and templates over real searches of the account's listings."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from tests.ai.conftest import (
    ALFAMA,
    CASCAIS,
    GRACA,
    OURIQUE,
    PERSONA,
    PORTO,
    RIVAL,
    SOLD,
    TRIANA,
    Listings,
    ask,
)
from tests.settings import defaults, tuned
from tests.statements import statements
from whatsapp_assistant.ai.providers.offline import OfflineProvider
from whatsapp_assistant.ai.providers.registry import make_provider
from whatsapp_assistant.ai.types import ImagePart, PersonaSpec, ReplyRequest, Turn
from whatsapp_assistant.config import LLMSettings
from whatsapp_assistant.db.session import Database

ALL_TITLES = {GRACA, OURIQUE, CASCAIS, ALFAMA, PORTO, TRIANA, SOLD, RIVAL}

# message, titles the reply must name (and no other), words showing the reply's language
SEARCHES = [
    ("Any flats in Lisbon under 400k?", {GRACA}, "Here is what"),
    ("Do you have villas for sale in Cascais?", {CASCAIS}, "Here is what"),
    ("Graça?", {GRACA}, "Isto é o que"),  # a Portuguese name alone reads Portuguese
    ("Cascais T4", {CASCAIS}, "Isto é o que"),
    ("Hi! 2-bedroom in Lisboa up to €400k", {GRACA}, "Here is what"),
    ("2 bed in Oporto to rent, max 1500/month", {PORTO}, "Here is what"),
    ("Quero um T3 em Campo de Ourique", {OURIQUE}, "Isto é o que"),
    # Several places are an OR: both neighbourhoods answer, and the reply names both.
    (
        "Procuro casa, de preferência na Graça ou em Campo de Ourique",
        {GRACA, OURIQUE},
        "tem em Graça ou Campo de Ourique",
    ),
    ("Anything in Cascais or Graça?", {GRACA, CASCAIS}, "has in Cascais or Graça"),
    ("Olá! Procuro T2 na Graça até 400 mil euros", {GRACA}, "Isto é o que"),
    ("Procuro casa para arrendar em Lisboa até 1500 euros por mês", {ALFAMA}, "Isto é o que"),
    ("Quanto custa o T2 na graça?", {GRACA}, "Isto é o que"),
    ("Busco piso en Sevilla hasta 300.000 €", {TRIANA}, "Esto es lo que"),
    ("Hola, ¿tienen algo en Seville?", {TRIANA}, "Esto es lo que"),
    ("Any flats in Faro?", set(), "I couldn't find any listing in Faro"),
    ("Villa in Cascais under 500k?", set(), "I couldn't find any listing in Cascais"),
    ("Tem moradias em Lisboa?", set(), "não encontro nenhum imóvel em Lisboa"),
    ("¿Tienen estudios en Sevilla?", set(), "no encuentro ningún inmueble en Sevilla"),
]


@pytest.fixture
def offline() -> OfflineProvider:
    return OfflineProvider(LLMSettings(provider="offline"))


class TestSearchReplies:
    @pytest.mark.parametrize(("message", "titles", "phrase"), SEARCHES)
    async def test_names_exactly_the_matching_listings_in_the_customers_language(
        self,
        offline: OfflineProvider,
        listings: Listings,
        message: str,
        titles: set[str],
        phrase: str,
    ) -> None:
        draft = await offline.draft_reply(ask(message), listings.tools)

        named = {title for title in ALL_TITLES if title in draft.text}
        assert named == titles
        assert phrase in draft.text
        assert draft.handoff is None

    @pytest.mark.parametrize(
        ("message", "words", "english"),
        [
            ("Olá! Procuro T2 na Graça até 400 mil euros", ["2 quartos", "para venda"], "bedrooms"),
            ("Procuro casa para arrendar em Lisboa até 1500 euros por mês", ["/mês"], "/month"),
            ("Busco piso en Sevilla hasta 300.000 €", ["dormitorios", "en venta"], "for sale"),
        ],
    )
    async def test_the_listing_lines_are_in_the_customers_language_too(
        self,
        offline: OfflineProvider,
        listings: Listings,
        message: str,
        words: list[str],
        english: str,
    ) -> None:
        draft = await offline.draft_reply(ask(message), listings.tools)

        assert all(word in draft.text for word in words), draft.text
        assert english not in draft.text

    async def test_no_match_offers_the_agents_follow_up(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        draft = await offline.draft_reply(ask("Any flats in Faro?"), listings.tools)

        assert "Rita Almeida to follow up" in draft.text

    async def test_searches_are_real_queries_recorded_as_tool_calls(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        draft = await offline.draft_reply(ask("Villas in Cascais?"), listings.tools)

        assert {call.name for call in draft.tool_calls} == {"search_properties"}
        assert draft.tool_calls[-1].arguments == {
            "location": ["Cascais"],
            "property_type": "villa",
        }
        assert CASCAIS in draft.tool_calls[-1].result_text

    async def test_a_persons_name_is_not_taken_for_a_place(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        # "Ana" is inside "Triana", and "John Smith" is capitalised like a place.
        for message in ("Hi, I'm Ana", "Hello, this is John Smith"):
            draft = await offline.draft_reply(ask(message), listings.tools)

            assert "Are you looking to buy or to rent" in draft.text

    async def test_a_bare_price_question_uses_the_earlier_criteria(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        request = ReplyRequest(
            persona=PERSONA,
            history=[
                Turn("user", "I'm interested in Cascais"),
                Turn("assistant", "Great, what would you like to know?"),
                Turn("user", "How much is it?"),
            ],
        )

        draft = await offline.draft_reply(request, listings.tools)

        assert CASCAIS in draft.text
        assert "€1,250,000" in draft.text


class TestSearchCost:
    async def test_words_that_name_no_listing_cost_no_search(
        self, offline: OfflineProvider, listings: Listings, db: Database
    ) -> None:
        # Each capitalised word is a place candidate; none of these names a listing's place.
        longer = "Any flats in Graça? Thinking about Marvila, Benfica, Alvalade, Belém or Estrela"
        counts, searches = [], []
        for message in ("Any flats in Graça?", longer):
            with statements(db) as seen:
                draft = await offline.draft_reply(ask(message), listings.tools)
            assert GRACA in draft.text
            counts.append(len(seen))
            searches.append(len(draft.tool_calls))

        assert counts[0] == counts[1]
        assert searches == [2, 2]  # Graça as a place, then the reply's search


class TestConversationReplies:
    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            ("Hi", "Hello! 👋 I'm Rita Almeida's assistant at Casa Lusa Imóveis."),
            ("good morning", "Are you looking to buy or to rent"),
            ("Hola, buenos días", "¡Hola! 👋 Soy el asistente de Rita Almeida"),
            ("buenas", "¿Busca comprar o alquilar"),
            ("Olá, bom dia", "Olá! 👋 Sou o assistente de Rita Almeida"),
            ("oi", "Procura comprar ou arrendar"),
            ("boa tarde", "Procura comprar ou arrendar"),
        ],
    )
    async def test_greets_in_the_customers_language(
        self, offline: OfflineProvider, listings: Listings, message: str, expected: str
    ) -> None:
        draft = await offline.draft_reply(ask(message), listings.tools)

        assert expected in draft.text
        assert draft.tool_calls == []

    async def test_greeting_uses_the_contact_name_and_the_persona_style(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        premium = PersonaSpec(style="premium", agent_name="Rita Almeida")

        draft = await offline.draft_reply(
            ask("Hello there", persona=premium, contact_name="Ana"), listings.tools
        )

        assert draft.text.startswith("Hello Ana! I'm Rita Almeida's assistant.")

    async def test_a_viewing_request_for_a_named_listing_offers_its_free_times(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        draft = await offline.draft_reply(
            ask("Can I visit the Graça flat on Saturday?"), listings.tools
        )

        assert draft.offer is not None
        assert draft.offer.title == GRACA
        assert draft.text.startswith(f"I can show you *{GRACA}* at:")
        zone = ZoneInfo(draft.offer.zone)
        assert {slot.astimezone(zone).strftime("%a") for slot in draft.offer.slots} == {"Sat"}
        free = await listings.tools.viewing_slots(draft.offer.property_id, limit=500)
        assert set(draft.offer.slots) <= set(free.starts)

    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            ("I'd like a viewing", "Which property would you like to see?"),
            ("Podemos marcar uma visita?", "Que imóvel gostaria de ver?"),
            ("¿Puedo visitar el piso?", "¿Qué inmueble le gustaría ver?"),
        ],
    )
    async def test_a_viewing_request_without_a_listing_asks_which_one(
        self, offline: OfflineProvider, listings: Listings, message: str, expected: str
    ) -> None:
        draft = await offline.draft_reply(ask(message), listings.tools)

        assert expected in draft.text
        assert draft.offer is None
        assert not any(ch.isdigit() for ch in draft.text)  # no invented slot

    async def test_thanks_gets_a_short_answer(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        draft = await offline.draft_reply(ask("Obrigado!"), listings.tools)

        assert draft.text.startswith("De nada!")

    async def test_anything_else_asks_for_criteria_and_promises_follow_up(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        draft = await offline.draft_reply(ask("asdf qwerty"), listings.tools)

        assert "Tell me the area, your budget" in draft.text
        assert "Rita Almeida will also get back to you" in draft.text

    async def test_unclear_language_follows_the_persona_default(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        persona = PersonaSpec(agent_name="Rita Almeida", default_language="pt")

        draft = await offline.draft_reply(ask("???", persona=persona), listings.tools)

        assert draft.text.startswith("Obrigado pela sua mensagem!")

    async def test_a_booking_refused_says_the_agent_arranges_it_even_without_a_name(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        # Outside a conversation nobody can be booked: the refusal reads well without a name.
        offered = await offline.draft_reply(ask("Can I see the Graça flat?"), listings.tools)
        assert offered.offer is not None
        request = replace(ask("the first one", persona=PersonaSpec()), offer=offered.offer)

        draft = await offline.draft_reply(request, listings.tools)

        assert draft.text == "The agent will arrange the viewing with you personally."


class TestOfflineLabel:
    async def test_every_draft_is_labelled_offline_for_the_agent(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        for message in ("Hi", "Villas in Cascais?", "Would they take 1M?", "asdf"):
            draft = await offline.draft_reply(ask(message), listings.tools)

            assert (draft.offline, draft.provider, draft.model) == (True, "offline", "rules-v1")
            assert "offline" not in draft.text.lower()


class TestMakeProvider:
    def test_offline_without_an_anthropic_key(self) -> None:
        assert make_provider(defaults()).name == "offline"

    async def test_anthropic_when_a_key_is_set(self) -> None:
        provider = make_provider(tuned(defaults(), anthropic_api_key="k"))

        assert (provider.name, provider.model) == ("anthropic", "claude-sonnet-5-5")
        await provider.aclose()

    async def test_explicit_choice_wins(self) -> None:
        settings = tuned(
            defaults(), llm_provider="openai", anthropic_api_key="k", openai_base_url="http://x/v1"
        )

        provider = make_provider(settings)

        assert provider.name == "openai"
        await provider.aclose()

    async def test_offline_close_is_a_no_op(self) -> None:
        provider = make_provider(tuned(defaults(), llm_provider="offline"))

        await provider.aclose()


class TestPictures:
    PICTURE = ImagePart("image/jpeg", b"\xff\xd8\xff\xe0 a flat \xff\xd9")

    @pytest.mark.parametrize(
        ("language", "says"),
        [
            ("en", "I can't see pictures here"),
            ("es", "Aquí no puedo ver imágenes"),
            ("pt", "Aqui não consigo ver imagens"),
        ],
    )
    async def test_a_picture_alone_is_answered_plainly_that_it_cannot_be_seen(
        self, offline: OfflineProvider, listings: Listings, language: str, says: str
    ) -> None:
        request = ReplyRequest(
            persona=PERSONA, history=[Turn("user", "", (self.PICTURE,))], language=language
        )

        draft = await offline.draft_reply(request, listings.tools)

        assert says in draft.text
        assert "Rita Almeida" in draft.text  # the agent will look at it
        assert draft.tool_calls == []
        assert draft.offline

    async def test_an_earlier_conversation_sets_the_language_of_that_answer(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        history = [
            Turn("user", "Olá, procuro casa em Lisboa"),
            Turn("assistant", "Olá! Em que zona?"),
            Turn("user", "", (self.PICTURE,)),
        ]

        draft = await offline.draft_reply(
            ReplyRequest(persona=PERSONA, history=history), listings.tools
        )

        assert "Aqui não consigo ver imagens" in draft.text

    async def test_a_picture_with_a_question_answers_the_question(
        self, offline: OfflineProvider, listings: Listings
    ) -> None:
        turn = Turn("user", "Any flats in Lisbon under 400k?", (self.PICTURE,))

        draft = await offline.draft_reply(
            ReplyRequest(persona=PERSONA, history=[turn]), listings.tools
        )

        assert GRACA in draft.text
        assert "see pictures" not in draft.text
