"""The offline texts of follow-ups and after-viewing notes (en/es/pt), naming the listings;
reminders are scheduling/wording.py's. The language is the conversation's (language.py)."""

from __future__ import annotations

from collections.abc import Sequence

from whatsapp_assistant.scheduling.wording import language_of

# {listings} is one title or "A or B" in bold; {name} is ", Ana" or nothing.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "followup_listings": "Hi{name}! Just checking in: are you still interested in "
        "{listings}? I'm happy to answer any questions or arrange a viewing.",
        "followup": "Hi{name}! Just checking in: are you still looking for a property? I'm "
        "happy to answer any questions or arrange a viewing.",
        "after_viewing": "How did the viewing of *{listing}* go? I'd love to hear what you "
        "thought.",
        "similar": "If you'd like to see more, these are similar:",
        "or": "or",
    },
    "es": {
        "followup_listings": "¡Hola{name}! Le escribo para saber si sigue interesado en "
        "{listings}. Con gusto respondo a sus preguntas o le organizo una visita.",
        "followup": "¡Hola{name}! Le escribo para saber si sigue buscando vivienda. Con gusto "
        "respondo a sus preguntas o le organizo una visita.",
        "after_viewing": "¿Qué tal fue la visita a *{listing}*? Me gustaría saber qué le pareció.",
        "similar": "Si quiere ver más, estos son parecidos:",
        "or": "o",
    },
    "pt": {
        "followup_listings": "Olá{name}! Escrevo para saber se continua interessado em "
        "{listings}. Terei todo o gosto em responder a perguntas ou marcar uma visita.",
        "followup": "Olá{name}! Escrevo para saber se continua à procura de casa. Terei todo o "
        "gosto em responder a perguntas ou marcar uma visita.",
        "after_viewing": "Como correu a visita a *{listing}*? Gostava de saber o que achou.",
        "similar": "Se quiser ver mais, estes são parecidos:",
        "or": "ou",
    },
}


def _name(name: str) -> str:
    first = name.split()[0] if name.split() else ""
    return f", {first}" if first else ""


def followup_text(language: str, *, listings: Sequence[str], name: str = "") -> str:
    words = TEXTS[language_of(language)]
    if not listings:
        return words["followup"].format(name=_name(name))
    titles = [f"*{title}*" for title in listings]
    joined = titles[0]
    if len(titles) > 1:
        joined = ", ".join(titles[:-1]) + f" {words['or']} " + titles[-1]
    return words["followup_listings"].format(name=_name(name), listings=joined)


def after_viewing_text(language: str, *, listing: str, similar: Sequence[str]) -> str:
    words = TEXTS[language_of(language)]
    text = words["after_viewing"].format(listing=listing)
    if not similar:
        return text
    lines = "\n".join(f"• {title}" for title in similar)
    return f"{text}\n\n{words['similar']}\n{lines}"
