"""The offline provider: keyword rules and per-language templates over real searches; no network."""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_assistant.ai import criteria, intent
from whatsapp_assistant.ai.language import Language, as_language, detect_language
from whatsapp_assistant.ai.photo_tools import SEND_LISTING_PHOTOS
from whatsapp_assistant.ai.places import Candidate, named_place, place_candidates
from whatsapp_assistant.ai.providers.offline_viewings import ViewingDialogue
from whatsapp_assistant.ai.tools import SEARCH_PROPERTIES, ToolRunner, is_no_match
from whatsapp_assistant.ai.types import ReplyDraft, ReplyRequest, SlotOffer, ToolCall
from whatsapp_assistant.config import LLMSettings
from whatsapp_assistant.kit.text import fold
from whatsapp_assistant.properties.schemas import PropertyFilters

_TEMPLATES: dict[Language, dict[str, str]] = {
    "en": {
        "greeting": "Hello{name}!{wave} I'm {agent}'s assistant{agency}. Are you looking to buy "
        "or to rent, and in which area?",
        "results": "Here is what {agent} has{where} right now:\n\n{listings}\n\nWould you like "
        "to see one of them? I can book you a viewing.",
        "no_match": "I couldn't find any listing{where} that matches right now. Would you like "
        "{agent} to follow up with you personally?",
        "thanks": "You're welcome! Let me know if there's anything else I can help with.",
        "fallback": "Thanks for your message! Tell me the area, your budget and how many "
        "bedrooms you need, and I'll check {agent}'s listings. {agent} will also get back to "
        "you personally.",
        "picture": "Thanks! I can't see pictures here, so could you tell me in words what you "
        "are looking for, or which listing this is about? {agent} will see your picture too.",
        "where": " in {place}",
        "agency": " at {agency}",
    },
    "es": {
        "greeting": "¡Hola{name}!{wave} Soy el asistente de {agent}{agency}. ¿Busca comprar o "
        "alquilar, y en qué zona?",
        "results": "Esto es lo que {agent} tiene{where} ahora mismo:\n\n{listings}\n\n¿Le "
        "gustaría ver alguno? Puedo reservarle una visita.",
        "no_match": "Ahora mismo no encuentro ningún inmueble{where} que encaje con lo que "
        "busca. ¿Quiere que {agent} le contacte personalmente?",
        "thanks": "¡De nada! Si necesita algo más, aquí estoy.",
        "fallback": "¡Gracias por su mensaje! Dígame la zona, su presupuesto y cuántas "
        "habitaciones necesita, y miro los inmuebles de {agent}. {agent} también le "
        "responderá personalmente.",
        "picture": "¡Gracias! Aquí no puedo ver imágenes: ¿me cuenta con palabras qué busca, "
        "o de qué inmueble se trata? {agent} también verá su imagen.",
        "where": " en {place}",
        "agency": " ({agency})",
    },
    "pt": {
        "greeting": "Olá{name}!{wave} Sou o assistente de {agent}{agency}. Procura comprar ou "
        "arrendar, e em que zona?",
        "results": "Isto é o que {agent} tem{where} neste momento:\n\n{listings}\n\nGostaria "
        "de ver algum? Posso marcar-lhe uma visita.",
        "no_match": "Neste momento não encontro nenhum imóvel{where} que corresponda ao que "
        "procura. Quer que {agent} entre em contacto consigo pessoalmente?",
        "thanks": "De nada! Se precisar de mais alguma coisa, estou por aqui.",
        "fallback": "Obrigado pela sua mensagem! Diga-me a zona, o orçamento e quantos quartos "
        "procura, e eu vejo os imóveis de {agent}. {agent} também lhe responderá pessoalmente.",
        "picture": "Obrigado! Aqui não consigo ver imagens: pode dizer-me por palavras o que "
        "procura, ou de que imóvel se trata? {agent} também verá a sua imagem.",
        "where": " em {place}",
        "agency": " ({agency})",
    },
}
_DEFAULT_AGENT: dict[Language, str] = {"en": "the agent", "es": "el agente", "pt": "o agente"}


@dataclass(frozen=True)
class _Reading:
    """The customer's newest message(s), the whole customer side, and the reply language."""

    latest: str
    everything: str
    language: Language
    pictures: bool = False  # the newest message(s) carry pictures, which rules cannot see

    @classmethod
    def of(cls, request: ReplyRequest) -> _Reading:
        turns = request.history
        tail = len(turns)
        while tail > 0 and turns[tail - 1].role == "user":
            tail -= 1
        latest = "\n".join(t.text for t in turns[tail:] if t.text)
        everything = "\n".join(t.text for t in turns if t.role == "user" and t.text)
        language = as_language(request.language) or detect_language(
            everything, default=request.persona.default_language
        )
        return cls(latest, everything, language, any(t.images for t in turns[tail:]))


def _has_criteria(text: str) -> bool:
    """Budget, bedrooms, sale or rent, type, or a place after 'in'/'em'/'en'."""
    budget = criteria.parse_budget(text)
    return bool(
        budget.max_price is not None
        or budget.min_price is not None
        or criteria.parse_bedrooms(text) is not None
        or criteria.parse_listing_type(text)
        or criteria.parse_property_type(text)
        or named_place(text, after_preposition_only=True)
    )


def _asks_for_listings(text: str) -> bool:
    return _has_criteria(text) or intent.wants_search(text) or intent.asks_price(text)


def filters_from(text: str, *, locations: list[str]) -> PropertyFilters:
    """The search a message asks for; rent when the budget is per month."""
    budget = criteria.parse_budget(text)
    listing_type = criteria.parse_listing_type(text) or criteria.listing_type_for_budget(budget)
    return PropertyFilters(
        location=locations,
        listing_type=listing_type,
        property_type=criteria.parse_property_type(text),
        min_price=budget.min_price,
        max_price=budget.max_price,
        min_bedrooms=criteria.parse_bedrooms(text),
    )


def _whole_word_in(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(fold(phrase))}(?!\w)", fold(text)) is not None


class _Search:
    """Real searches through the ToolRunner, each recorded as a tool call on the draft."""

    def __init__(self, tools: ToolRunner, language: Language) -> None:
        self.tools = tools
        self.language = language  # the listing lines read in the reply's language
        self.calls: list[ToolCall] = []

    async def run(self, filters: PropertyFilters) -> str:
        result = await self.tools.search_properties(filters, language=self.language)
        # Recorded in the tool's own argument shape, as a model's call would be.
        arguments: dict[str, object] = filters.model_dump(
            mode="json", exclude_none=True, exclude={"status", "limit", "offset"}
        )
        if not filters.location:
            del arguments["location"]
        self.calls.append(ToolCall(SEARCH_PROPERTIES, arguments, result))
        return result

    async def find_places(self, text: str) -> list[Candidate]:
        """Every phrase (or alias) of the text that is a place of one of the listings, in the
        customer's order; a phrase inside one already found ("Ourique" in "Campo de
        Ourique") is the same place."""
        found: list[Candidate] = []
        candidates = place_candidates(text)
        if not candidates:
            return found
        # One statement says which phrases any listing has; only those are searched, so a
        # long message costs no more searches than the places it names.
        present = await self.tools.places_with_listings([c.search for c in candidates])
        for candidate in candidates:
            if candidate.search not in present:
                continue  # its search would find nothing
            if any(_whole_word_in(candidate.said, place.said) for place in found):
                continue
            result = await self.run(PropertyFilters(location=[candidate.search]))
            # The search matches substrings ("Ana" is in "Triana"): only a whole word counts.
            if not is_no_match(result) and _whole_word_in(candidate.search, result):
                found.append(candidate)
        return sorted(found, key=lambda place: fold(text).find(fold(place.said)))  # as said


async def _first_photos(tools: ToolRunner, text: str) -> list[ToolCall]:
    """The first photo of each listing the reply names, through the model's own tool, so the
    same rule holds: only listings the searches returned (docs/decisions.md, 29)."""
    calls: list[ToolCall] = []
    for listing_id, title in list(tools.shown.items()):
        if title not in text:
            continue
        outcome = await tools.send_listing_photos(listing_id, 1)
        if outcome.is_error:
            continue  # no photo to send, or no conversation to send it in
        arguments: dict[str, object] = {"property_id": str(listing_id), "count": 1}
        calls.append(ToolCall(SEND_LISTING_PHOTOS, arguments, outcome.text))
    return calls


class OfflineProvider:
    """Rules, not a model: every draft says offline=True so the agent sees it was not an LLM."""

    name = "offline"
    model = "rules-v1"

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self._settings = settings

    async def draft_reply(self, request: ReplyRequest, tools: ToolRunner) -> ReplyDraft:
        reading = _Reading.of(request)
        say = _Sayer(request, reading.language)
        if reading.pictures and not reading.latest.strip():
            # Only a picture: saying anything about it would pretend the rules saw it.
            return self._draft(say("picture"), [])
        # Offers, complaints, legal and financing questions never reach here: the reply job's
        # escalation rules (escalation/rules.py) hand them over before any provider is asked.
        search = _Search(tools, reading.language)
        places = await search.find_places(reading.latest)  # "Graça?" alone is a search too
        named = next(iter(tools.shown), None) if places else None
        dialogue = ViewingDialogue(request, tools, reading.language, reading.latest)
        viewing = await dialogue.answer(named)
        if viewing is not None:
            return self._draft(viewing.text, search.calls, offer=viewing.offer)
        if places or _asks_for_listings(reading.latest):
            text = await self._answer_search(reading, say, search, places)
            return self._draft(text, search.calls + await _first_photos(tools, text))
        if intent.is_greeting(reading.latest):
            return self._draft(say("greeting"), search.calls)
        if intent.is_thanks(reading.latest):
            return self._draft(say("thanks"), search.calls)
        return self._draft(say("fallback"), search.calls)

    async def _answer_search(
        self, reading: _Reading, say: _Sayer, search: _Search, places: list[Candidate]
    ) -> str:
        text = reading.latest
        if not places and not _has_criteria(text):
            # A bare "how much?" or "any others?" refers to what the customer asked before.
            text = reading.everything
            places = await search.find_places(text)
        named = named_place(text)
        if not places and named is not None:
            return say("no_match", place=named)
        where = say.either([place.said for place in places]) if places else None
        filters = filters_from(text, locations=[place.search for place in places])
        result = await search.run(filters)
        if is_no_match(result) and criteria.is_generic_home(text):
            # "casa" is "house" but just as often "a home": try again with any property type.
            result = await search.run(filters.model_copy(update={"property_type": None}))
        if is_no_match(result):
            return say("no_match", place=where)
        reply = say("results", place=where, listings=result)
        if intent.is_greeting(reading.latest):
            reply = f"{say('hello')}\n{reply}"
        return reply

    def _draft(
        self, text: str, calls: list[ToolCall], *, offer: SlotOffer | None = None
    ) -> ReplyDraft:
        return ReplyDraft(
            text=text,
            provider=self.name,
            model=self.model,
            tool_calls=calls,
            offline=True,
            offer=offer,
        )

    async def aclose(self) -> None:
        return None


class _Sayer:
    """Fills one language's templates with the persona's names."""

    def __init__(self, request: ReplyRequest, language: Language) -> None:
        self.persona = request.persona
        self.contact = request.contact_name.strip()
        self.language = language
        self.templates = _TEMPLATES[language]

    def either(self, names: list[str]) -> str:
        """ "Graça or Campo de Ourique", in the reply's language."""
        word = {"en": "or", "es": "o", "pt": "ou"}[self.language]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"

    def __call__(self, key: str, *, place: str | None = None, listings: str = "") -> str:
        persona = self.persona
        if key == "hello":
            return {"en": "Hello!", "es": "¡Hola!", "pt": "Olá!"}[self.language]
        agency = persona.agency_name.strip()
        text = self.templates[key].format(
            agent=persona.agent_name.strip() or _DEFAULT_AGENT[self.language],
            agency=self.templates["agency"].format(agency=agency) if agency else "",
            name=f" {self.contact}" if self.contact else "",
            wave="" if persona.style in ("professional", "premium") else " 👋",
            where=self.templates["where"].format(place=place) if place else "",
            listings=listings,
        )
        # "the agent" stands in for a missing name; at the start of a sentence it needs a capital.
        default = _DEFAULT_AGENT[self.language]
        return re.sub(rf"(^|[.!?]\s+){default}", lambda m: m.group(1) + default.capitalize(), text)
