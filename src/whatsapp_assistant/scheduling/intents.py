"""What a customer says about a viewing: asks for one, cancels or moves a booked one; pure.

Phrases run over `kit.text.fold`ed text (case and accents ignored) on word boundaries. The
message's own language is tried first, then the others, because customers mix languages
("cancelar pls"). Cancelling a viewing is not opting out: only the whole-message words of
`escalation.rules.OPT_OUT_WORDS` (STOP, BAJA, PARAR, ...) opt out.
"""

from __future__ import annotations

import re
from typing import Literal

from whatsapp_assistant.kit.languages import mixed_order
from whatsapp_assistant.kit.text import fold

ViewingIntent = Literal["cancel", "reschedule"]

# Per language: regex fragments, one idea each; "{day}" stands for that language's DAYS. A bare
# "mudar" or "cambiar" is not enough ("vou mudar para Lisboa" is moving house): the verb needs
# the viewing, a time or a day after it. Reschedule is read before cancel, so "I can't make it,
# can we move it to Monday?" moves the viewing instead of dropping it.
DAYS: dict[str, tuple[str, ...]] = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
           "tomorrow", "today", "next week", "the weekend", "another day", "later"),
    "es": ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo", "manana",
           "hoy", "la semana que viene", "la proxima semana", "el fin de semana", "otro dia",
           "la tarde", "las \\d+"),
    "pt": ("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo", "amanha",
           "hoje", "a semana que vem", "a proxima semana", "o fim de semana", "outro dia",
           "a tarde", "de tarde", "as \\d+"),
}  # fmt: skip
RESCHEDULE: dict[str, tuple[str, ...]] = {
    "en": (
        r"re-?schedul\w*",
        r"(move|push|change|switch|shift) (it|the (viewing|visit|time|day|appointment|date))",
        r"(another|a different|other) (day|time|date|slot)",
        r"postpone",
        r"(can|could) we (do|make it) ({day})",
        r"(can|could) we (do|make it) \w+( \w+)? instead",
    ),
    "es": (
        r"(cambiar|mover)(la|lo)",
        r"(cambiar|mover|pasar) (la visita|la cita|la hora|el dia|la fecha)",
        r"(cambiar|mover|pasar)(la|lo)? (a|al|para|para el|para la|el) ({day})",
        r"aplazar\w*",
        r"posponer\w*",
        r"reprogramar\w*",
        r"(otro|otra) (dia|hora|fecha|momento)",
    ),
    "pt": (
        r"(muda|passa|troca)-?l[ao]",
        r"(mudar|passar|trocar) (a visita|a hora|o horario|o dia|a data)",
        r"(mudar|passar|trocar)(-?l[ao])? (para|pra|pa) ({day})",
        r"remarcar",
        r"reagendar",
        r"adiar",
        r"(outro|outra) (dia|hora|data|horario)",
    ),
}
CANCEL: dict[str, tuple[str, ...]] = {
    "en": (
        r"cancel\w*",
        r"(can't|cant|cannot|can not|won't|wont|couldn't) (make it|come|go|attend|be there)",
        r"(won't|wont|will not|not) be able to (make it|come|go|attend|be there)",
        r"not (coming|going to make it)",
        r"call (it|the viewing) off",
    ),
    "es": (
        r"cancel\w*",
        r"anular\w*",
        r"no (puedo|podre|podemos|podremos|voy a poder|vamos a poder) (ir|asistir|llegar|acudir)",
        r"(no|al final no) (voy|vamos) a poder",
        r"no podre",
    ),
    "pt": (
        r"cancel\w*",
        r"desmarcar",
        r"nao (posso|poderei|podemos|consigo|vou conseguir|vou poder) (ir|comparecer|chegar)",
        r"nao (vou|vamos) (poder|conseguir)",
        r"nao (poderei|consigo)",
    ),
}
# Asking to see a place: "can I see it?", "posso visitar?", "¿puedo verlo el sábado?".
VIEWING_REQUEST: dict[str, tuple[str, ...]] = {
    "en": (
        r"viewings?",
        r"visit\w*",
        r"(see|view) (it|this|that|them|the( [\w-]+){0,2} "
        r"(flat|house|apartment|place|property|home|villa|studio|loft|penthouse|t\d))",
        r"(book|arrange|schedule) a (viewing|visit|tour)",
        r"tour",
    ),
    "es": (
        r"visita\w*",
        r"ver(lo|la|los|las)",
        r"ver (el|la|ese|esa|este|esta)( [\w-]+){0,2} (piso|casa|apartamento|atico|estudio|chalet)",
        r"(puedo|podemos|podria|quiero|quisiera) ver",
    ),
    "pt": (
        r"visita\w*",
        r"ve-l[oa]s?",
        r"ver (o|a|esse|essa|este|esta)( [\w-]+){0,2} (apartamento|casa|imovel|moradia|t\d)",
        r"(posso|podemos|poderia|quero|queria|gostaria de) ver",
    ),
}


def _compiled(table: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    def alternatives(language: str, patterns: tuple[str, ...]) -> str:
        days = "|".join(DAYS[language])
        return "|".join(pattern.replace("{day}", days) for pattern in patterns)

    return {
        language: re.compile(rf"(?<!\w)(?:{alternatives(language, patterns)})(?!\w)")
        for language, patterns in table.items()
    }


_RESCHEDULE = _compiled(RESCHEDULE)
_CANCEL = _compiled(CANCEL)
_VIEWING_REQUEST = _compiled(VIEWING_REQUEST)


def _normalise(text: str) -> str:
    """Folded, typographic apostrophes made plain, punctuation dropped, spaces made one."""
    plain = fold(text).replace("’", "'")
    return " ".join(re.sub(r"[^\w'\s-]+", " ", plain).split())


def _says(patterns: dict[str, re.Pattern[str]], text: str, language: str) -> bool:
    normalised = _normalise(text)
    return any(patterns[lang].search(normalised) for lang in mixed_order(language))


def viewing_intent(text: str, language: str) -> ViewingIntent | None:
    """For a customer with a booked viewing: "reschedule", "cancel", or None for anything else."""
    if _says(_RESCHEDULE, text, language):
        return "reschedule"
    if _says(_CANCEL, text, language):
        return "cancel"
    return None


def asks_for_viewing(text: str, language: str) -> bool:
    """The message asks to see a property ("can I see it?", "posso visitar?")."""
    return _says(_VIEWING_REQUEST, text, language)
