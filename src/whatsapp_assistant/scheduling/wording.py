"""What the customer is told about a viewing (en/es/pt), with dates in their language.

Which language to write in is the conversation's (conversations/language.py), never guessed here;
any other code falls back to English. Days and times are babel's, in the customer's locale and
the ACCOUNT's zone: the viewing happens there, whichever country the customer writes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from babel.dates import format_datetime, format_time

from whatsapp_assistant.kit.languages import or_english
from whatsapp_assistant.scheduling.facts import Place, ViewingFacts, zone_info

# English is en_GB: the accounts are in Europe, and a customer there reads "Saturday 5 December,
# 10:00", not en_US's "Saturday, December 5, 10:00 AM". Portuguese is Portugal's.
LOCALES = {"en": "en_GB", "es": "es_ES", "pt": "pt_PT"}
# CLDR's own day patterns for these locales, without the year: a viewing is days away, never a
# year. `long` is written in sentences, `short` in a numbered list of slots.
DAY_PATTERNS: dict[str, dict[str, str]] = {
    "en": {"long": "EEEE d MMMM", "short": "EEE d MMM"},
    "es": {"long": "EEEE, d 'de' MMMM", "short": "EEE d MMM"},
    "pt": {"long": "EEEE, d 'de' MMMM", "short": "EEE, d MMM"},
}


class Notice(StrEnum):
    """Each thing the customer is told about a booked or asked-for viewing."""

    CONFIRMED = "confirmed"  # booked straight away
    REQUESTED = "requested"  # the listing needs the agent's approval
    REMINDER_DAY = "reminder_day"  # the day before
    REMINDER_HOUR = "reminder_hour"  # an hour before
    APPROVED = "approved"
    DECLINED = "declined"
    RESCHEDULED = "rescheduled"  # the facts carry the new time
    CANCELLED_BY_AGENT = "cancelled_by_agent"
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer"  # confirms the customer's own cancelling
    DONE = "done"
    NO_SHOW = "no_show"


# One register per language, the polite one a booking notice uses ("su visita", "a sua visita"):
# these go out whatever the persona's style. {agent} always opens a sentence, so the fallback
# name reads right. {day} is the long day, {time} the clock time, both in the account's zone.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        Notice.CONFIRMED: "Your viewing of *{listing}* is booked for {day} at {time}.",
        Notice.REQUESTED: "Your request to view *{listing}* on {day} at {time} has been sent. "
        "{agent} will confirm it shortly, and I'll let you know here.",
        Notice.REMINDER_DAY: "A reminder: your viewing of *{listing}* is tomorrow, {day}, at "
        "{time}.",
        Notice.REMINDER_HOUR: "See you soon! Your viewing of *{listing}* is today at {time}.",
        Notice.APPROVED: "Good news: your viewing of *{listing}* on {day} at {time} is confirmed.",
        Notice.DECLINED: "Sorry, the viewing of *{listing}* on {day} at {time} isn't possible. "
        "Shall I find you another time?",
        Notice.RESCHEDULED: "Your viewing of *{listing}* has moved to {day} at {time}.",
        Notice.CANCELLED_BY_AGENT: "Sorry, your viewing of *{listing}* on {day} at {time} had "
        "to be cancelled. Shall I find you another time?",
        Notice.CANCELLED_BY_CUSTOMER: "Done: your viewing of *{listing}* on {day} at {time} is "
        "cancelled. If you'd like another time, just write here.",
        Notice.DONE: "Thank you for visiting *{listing}* today. If you have any questions, just "
        "write here.",
        Notice.NO_SHOW: "We missed you at the viewing of *{listing}* today at {time}. Would you "
        "like to book another time?",
        "offer": "I can show you *{listing}* at:",
        "offer_question": "Which one suits you? You can reply with the number.",
        "offer_button": "See the times",
        "stale_choice": "That time is from an earlier list and is no longer offered: please "
        "choose one of the times in my last message.",
        "event": "Viewing: {listing}",
        "agent": "The agent",
        "taken": "Sorry, that time has just been taken.",
        "none_then": "I have no free time for a viewing then.",
        "which_listing": "I'd be glad to arrange a viewing! Which property would you like to "
        "see? Tell me its area or name and I'll find free times.",
        "no_times": "There is no free viewing time in the coming days. {agent} will contact "
        "you to arrange one.",
        "arrange": "{agent} will arrange the viewing with you personally.",
        "unclear": "Which of these times suits you? You can reply with its number.",
    },
    "es": {
        Notice.CONFIRMED: "Su visita a *{listing}* está reservada para el {day} a las {time}.",
        Notice.REQUESTED: "Su solicitud de visita a *{listing}* el {day} a las {time} está "
        "enviada. {agent} la confirmará en breve y se lo comunicaré aquí.",
        Notice.REMINDER_DAY: "Recordatorio: su visita a *{listing}* es mañana, {day}, a las "
        "{time}.",
        Notice.REMINDER_HOUR: "¡Hasta pronto! Su visita a *{listing}* es hoy a las {time}.",
        Notice.APPROVED: "Buenas noticias: su visita a *{listing}* el {day} a las {time} está "
        "confirmada.",
        Notice.DECLINED: "Lo siento, la visita a *{listing}* el {day} a las {time} no es "
        "posible. ¿Le busco otro horario?",
        Notice.RESCHEDULED: "La nueva fecha de su visita a *{listing}* es el {day} a las {time}.",
        Notice.CANCELLED_BY_AGENT: "Lo siento, su visita a *{listing}* del {day} a las {time} "
        "se ha tenido que cancelar. ¿Le busco otro horario?",
        Notice.CANCELLED_BY_CUSTOMER: "Hecho: su visita a *{listing}* del {day} a las {time} "
        "está cancelada. Si quiere otro horario, escríbame aquí.",
        Notice.DONE: "Gracias por visitar *{listing}* hoy. Si tiene alguna pregunta, escríbame "
        "aquí.",
        Notice.NO_SHOW: "Le esperábamos hoy a las {time} para la visita a *{listing}*. ¿Quiere "
        "reservar otro horario?",
        "offer": "Puedo enseñarle *{listing}* en estos horarios:",
        "offer_question": "¿Cuál le viene mejor? Puede responder con el número.",
        "offer_button": "Ver horarios",
        "stale_choice": "Ese horario es de una lista anterior y ya no está disponible: "
        "elija uno de los horarios de mi último mensaje.",
        "event": "Visita: {listing}",
        "agent": "El agente",
        "taken": "Lo siento, ese horario se acaba de ocupar.",
        "none_then": "No tengo horario libre para una visita en ese momento.",
        "which_listing": "¡Con gusto organizo una visita! ¿Qué inmueble le gustaría ver? "
        "Dígame la zona o el nombre y le busco horarios libres.",
        "no_times": "No hay horarios libres para visitas en los próximos días. {agent} le "
        "contactará para organizar una.",
        "arrange": "{agent} organizará la visita con usted personalmente.",
        "unclear": "¿Cuál de estos horarios le viene mejor? Puede responder con el número.",
    },
    "pt": {
        Notice.CONFIRMED: "A sua visita a *{listing}* está marcada para {day}, às {time}.",
        Notice.REQUESTED: "O seu pedido de visita a *{listing}* para {day}, às {time}, foi "
        "enviado. {agent} vai confirmá-lo em breve e eu dou-lhe notícias aqui.",
        Notice.REMINDER_DAY: "Lembrete: a sua visita a *{listing}* é amanhã, {day}, às {time}.",
        Notice.REMINDER_HOUR: "Até já! A sua visita a *{listing}* é hoje às {time}.",
        Notice.APPROVED: "Boas notícias: a sua visita a *{listing}* para {day}, às {time}, está "
        "confirmada.",
        Notice.DECLINED: "Lamento, a visita a *{listing}* para {day}, às {time}, não é possível. "
        "Quer que procure outro horário?",
        Notice.RESCHEDULED: "A sua visita a *{listing}* passou para {day}, às {time}.",
        Notice.CANCELLED_BY_AGENT: "Lamento, a sua visita a *{listing}* de {day}, às {time}, "
        "teve de ser cancelada. Quer que procure outro horário?",
        Notice.CANCELLED_BY_CUSTOMER: "Feito: a sua visita a *{listing}* de {day}, às {time}, "
        "foi cancelada. Se quiser outro horário, é só escrever aqui.",
        Notice.DONE: "Obrigado pela visita a *{listing}* hoje. Se tiver alguma pergunta, é só "
        "escrever aqui.",
        Notice.NO_SHOW: "Esperámos por si hoje às {time} para a visita a *{listing}*. Quer "
        "marcar outro horário?",
        "offer": "Posso mostrar-lhe *{listing}* nestes horários:",
        "offer_question": "Qual lhe dá mais jeito? Pode responder com o número.",
        "offer_button": "Ver horários",
        "stale_choice": "Esse horário é de uma lista anterior e já não está disponível: "
        "escolha um dos horários da minha última mensagem.",
        "event": "Visita: {listing}",
        "agent": "O agente",
        "taken": "Lamento, esse horário acabou de ser ocupado.",
        "none_then": "Não tenho horário livre para uma visita nessa altura.",
        "which_listing": "Com todo o gosto marco uma visita! Que imóvel gostaria de ver? "
        "Diga-me a zona ou o nome e eu procuro horários livres.",
        "no_times": "Não há horários livres para visitas nos próximos dias. {agent} vai "
        "contactá-lo para marcar uma.",
        "arrange": "{agent} vai combinar a visita consigo pessoalmente.",
        "unclear": "Qual destes horários lhe dá mais jeito? Pode responder com o número.",
    },
}


def language_of(language: str | None) -> str:
    """One of the product's languages; any other code (or none) is English."""
    return or_english(language)


def long_day(when: datetime, zone: str, language: str) -> str:
    """ "Saturday 5 December", "sábado, 5 de diciembre", "sábado, 5 de dezembro"."""
    lang = language_of(language)
    pattern = DAY_PATTERNS[lang]["long"]
    return format_datetime(_aware(when), pattern, tzinfo=zone_info(zone), locale=LOCALES[lang])


def clock_time(when: datetime, zone: str, language: str) -> str:
    """The locale's short time ("10:00") in the account's zone."""
    locale = LOCALES[language_of(language)]
    return format_time(_aware(when), "short", tzinfo=zone_info(zone), locale=locale)


def slot_label(when: datetime, zone: str, language: str) -> str:
    """ "Sat 5 Dec, 10:00": one line of an offer."""
    lang = language_of(language)
    day = format_datetime(
        _aware(when), DAY_PATTERNS[lang]["short"], tzinfo=zone_info(zone), locale=LOCALES[lang]
    )
    return f"{day}, {clock_time(when, zone, lang)}"


def event_title(place: Place, language: str) -> str:
    """The calendar event's title: "Viewing: T2 in Chiado"."""
    return TEXTS[language_of(language)]["event"].format(listing=place.title)


def notice_text(notice: Notice, facts: ViewingFacts, language: str) -> str:
    """What the customer is told, with the listing, where it is and a map link."""
    lang = language_of(language)
    words = TEXTS[lang]
    headline = words[notice].format(
        listing=facts.place.title,
        day=long_day(facts.starts_at, facts.zone, lang),
        time=clock_time(facts.starts_at, facts.zone, lang),
        agent=" ".join(facts.agent_name.split()) or words["agent"],
    )
    return f"{headline}\n\n{_where(facts.place)}"


def dialogue_text(key: str, language: str, *, agent_name: str = "") -> str:
    """One line of the booking dialogue ("taken", "none_then", "which_listing", "no_times",
    "arrange", "unclear", "offer_button", "stale_choice"); {agent} opens a sentence, so the
    fallback name reads right."""
    words = TEXTS[language_of(language)]
    return words[key].format(agent=" ".join(agent_name.split()) or words["agent"])


def offer_text(slots: Sequence[datetime], *, zone: str, place: Place, language: str) -> str:
    """The free slots, numbered in the order given, so "2" or "the second one" picks one
    (scheduling/choice.py reads the answer against the same order)."""
    if not slots:
        raise ValueError("an offer needs at least one slot")
    words = TEXTS[language_of(language)]
    lines = [
        f"{number}) {slot_label(slot, zone, language)}" for number, slot in enumerate(slots, 1)
    ]
    head = words["offer"].format(listing=place.title)
    return "\n".join([head, *lines, "", words["offer_question"], "", _where(place)])


def _where(place: Place) -> str:
    return f"📍 {place.location}\n{place.map_url}"


def _aware(when: datetime) -> datetime:
    # babel reads a naive datetime as UTC without a word; ours are always aware (kit/clock.py).
    if when.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return when
