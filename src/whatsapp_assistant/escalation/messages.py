"""Fixed texts around a hand-over: to the customer (en/es/pt, by persona style) and to the agent.

Which language to write in is the conversation's (conversations/language.py), never guessed here.
"""

from __future__ import annotations

from whatsapp_assistant.ai.language import LANGUAGES
from whatsapp_assistant.kit.languages import or_english

STYLES = ("professional", "friendly", "casual", "premium")

# {agent} always opens a sentence, so the fallback below reads right when no name is set.
# Spanish and Portuguese use the formal "usted"/"lhe" for professional and premium, "tú"/"te"
# otherwise. The texts promise one thing only: the agent replies here, personally.
_HANDOFF: dict[str, dict[str, str]] = {
    "en": {
        "professional": "Thank you for your message. {agent} will reply to you here personally.",
        "friendly": "Thanks for your message! {agent} will reply to you here personally 🙂",
        "casual": "Got it! {agent} will reply here personally 👍",
        "premium": "Thank you. {agent} will attend to your message personally and reply to you "
        "here.",
    },
    "es": {
        "professional": "Gracias por su mensaje. {agent} le responderá aquí personalmente.",
        "friendly": "¡Gracias por tu mensaje! {agent} te responderá aquí personalmente 🙂",
        "casual": "¡Entendido, gracias! {agent} te contesta aquí personalmente 👍",
        "premium": "Muchas gracias. {agent} atenderá su mensaje personalmente y le responderá "
        "aquí.",
    },
    "pt": {
        "professional": "Obrigado pela sua mensagem. {agent} irá responder-lhe aqui pessoalmente.",
        "friendly": "Obrigado pela mensagem! {agent} vai responder-te aqui pessoalmente 🙂",
        "casual": "Combinado, obrigado! {agent} responde-te aqui pessoalmente 👍",
        "premium": "Muito obrigado. {agent} tratará pessoalmente da sua mensagem e irá "
        "responder-lhe aqui.",
    },
}
_HOLDING: dict[str, dict[str, str]] = {
    "en": {
        "professional": "Thank you for your message. Our assistant is temporarily unavailable. "
        "{agent} will reply to you here soon.",
        "friendly": "Thanks for your message! Our assistant is unavailable for a moment. "
        "{agent} will reply here soon 🙂",
        "casual": "Hey! Our assistant is offline for a bit. {agent} will reply here soon 👍",
        "premium": "Thank you for your message. Our assistant is momentarily unavailable. "
        "{agent} will reply to you here shortly.",
    },
    "es": {
        "professional": "Gracias por su mensaje. Nuestro asistente no está disponible en este "
        "momento. {agent} le responderá aquí en breve.",
        "friendly": "¡Gracias por tu mensaje! Nuestro asistente no está disponible ahora mismo. "
        "{agent} te responderá aquí pronto 🙂",
        "casual": "¡Hola! El asistente está desconectado un momento. {agent} te contesta aquí "
        "pronto 👍",
        "premium": "Muchas gracias por su mensaje. Nuestro asistente no está disponible "
        "momentáneamente. {agent} le responderá aquí en breve.",
    },
    "pt": {
        "professional": "Obrigado pela sua mensagem. O nosso assistente está temporariamente "
        "indisponível. {agent} irá responder-lhe aqui em breve.",
        "friendly": "Obrigado pela mensagem! O nosso assistente está indisponível de momento. "
        "{agent} vai responder-te aqui em breve 🙂",
        "casual": "Olá! O assistente está offline por uns minutos. {agent} responde-te aqui "
        "já a seguir 👍",
        "premium": "Muito obrigado pela sua mensagem. O nosso assistente está momentaneamente "
        "indisponível. {agent} irá responder-lhe aqui muito em breve.",
    },
}
_NO_NAME = {"en": "The agent", "es": "El agente", "pt": "O agente"}
# Each names a keyword that rules.is_opt_in / is_opt_out accepts (a test holds them to it).
_OPTED_OUT = {
    "en": "You won't receive automated messages from us anymore. Write START to resume.",
    "es": "Ya no recibirás mensajes automáticos. Escribe ALTA para volver a recibirlos.",
    "pt": "Não vai receber mais mensagens automáticas. Escreva VOLTAR para retomar.",
}
_OPTED_IN = {
    "en": "Welcome back: automated messages are on again. Write STOP to opt out at any time.",
    "es": "Has vuelto a activar los mensajes automáticos. Escribe BAJA para dejar de recibirlos.",
    "pt": "Olá de novo! Voltou a receber mensagens automáticas. Escreva PARAR para as desativar.",
}
# Until voice notes are transcribed, nobody has read one: ask for text, promise nothing else.
_VOICE_NOTE = {
    "en": "Sorry, I can't listen to voice messages here. Could you type your message, please?",
    "es": "Lo siento, aquí no puedo escuchar mensajes de voz. ¿Podrías escribir tu mensaje, "
    "por favor?",
    "pt": "Desculpe, aqui não consigo ouvir mensagens de voz. Pode escrever a sua mensagem, "
    "por favor?",
}
_REASON_LABELS = {
    "negotiation": "offer or price negotiation",
    "objection": "complaint",
    "legal": "legal or tax question",
    "financing": "financing question",
    "human_request": "asked for a person",
    "ai_unavailable": "the AI could not answer",
    "voice_note": "sent a voice message nobody has listened to",
    "viewing_request": "a viewing to approve",
    "missed_message": "wrote while the assistant was offline, too long ago to answer",
    "other": "needs your reply",
}
EXCERPT_LENGTH = 160


def _language(language: str) -> str:
    return or_english(language)


def _style(style: str) -> str:
    return style if style in STYLES else "friendly"


def handoff_text(language: str, *, agent_name: str, style: str) -> str:
    """Tell the customer the agent will reply here personally; promise nothing else."""
    lang = _language(language)
    template = _HANDOFF[lang][_style(style)]
    return template.format(agent=agent_name.strip() or _NO_NAME[lang])


def holding_text(language: str, *, agent_name: str, style: str) -> str:
    """Tell the customer the assistant is unavailable for now and the agent will reply soon."""
    lang = _language(language)
    template = _HOLDING[lang][_style(style)]
    return template.format(agent=agent_name.strip() or _NO_NAME[lang])


def opted_out_text(language: str) -> str:
    return _OPTED_OUT[_language(language)]


def opted_in_text(language: str) -> str:
    return _OPTED_IN[_language(language)]


_RESEND: dict[str, str] = {
    "en": "Sorry, your last message did not come through. Could you send it again?",
    "es": "Lo siento, tu mensaje no llegó bien. ¿Puedes reenviarlo?",
    "pt": "Desculpe, a sua mensagem não chegou bem. Pode reenviá-la?",
}


def resend_text(language: str | None) -> str:
    """Ask for a message WhatsApp could not decrypt; in every language while none is known."""
    if language in _RESEND:
        return _RESEND[language]
    return " / ".join(_RESEND[code] for code in LANGUAGES)


def voice_note_text(language: str) -> str:
    """Ask the customer to type what they said in a voice note."""
    return _VOICE_NOTE[_language(language)]


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= EXCERPT_LENGTH:
        return flat
    cut = flat[:EXCERPT_LENGTH].rsplit(" ", 1)[0] or flat[:EXCERPT_LENGTH]
    return cut.rstrip(" ,.;:") + "…"


def reason_label(reason: str) -> str:
    """Why a conversation was handed over, in words the agent reads in the alert and the inbox."""
    return _REASON_LABELS.get(reason, reason.replace("_", " ") or _REASON_LABELS["other"])


def agent_alert_text(*, customer: str, reason: str, excerpt: str) -> str:
    """The WhatsApp note to the agent's own number: who needs them, why, and what they wrote."""
    who = " ".join(customer.split()) or "A customer"
    why = reason_label(reason)
    quoted = _excerpt(excerpt)
    lines = [f"🔔 Hand-over: {who}", f"Why: {why}"]
    if quoted:
        lines.append(f"“{quoted}”")
    lines.append("Open the conversation in your inbox to reply.")
    return "\n".join(lines)


def viewing_alert_text(*, customer: str, change: str, listing: str, when: str) -> str:
    """The agent's note of a viewing the assistant booked, moved or cancelled for a customer."""
    who = " ".join(customer.split()) or "A customer"
    what = {
        "confirmed": "booked a viewing",
        "requested": "asks to book a viewing (needs your approval)",
        "rescheduled": "moved their viewing",
        "cancelled": "cancelled their viewing",
    }.get(change, change)
    return f"📅 {who} {what}: {listing}, {when}.\nSee it on your Viewings page."
