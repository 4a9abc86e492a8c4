"""Which customer messages hand the conversation to the agent, and opt-out/opt-in words; pure.

Policy (docs/escalation-policy.md):

- Hand over when answering would mean deciding or advising for the agent: `negotiation` (an
  amount proposed, a discount asked for, a wish to negotiate), `objection` (a complaint about the
  service), `legal` (contracts, lawyers, deeds, purchase taxes), `financing` (mortgages, loans,
  banks), `human_request` (an explicit request for a person or a call).
- "Is the price negotiable?" / "¿el precio es negociable?" / "o preço é negociável?" is a question
  about the listing that the data may answer or the agent can confirm later, not an offer: it does
  NOT hand over. Asking *whether* the price moves stays with the AI; proposing an amount, asking
  for a discount or "let's / can we / I want to negotiate" hands over.
- Nor do the annual property tax (IMI/IBI/council tax), condominium fees, the minimum lease
  length, budgets ("up to 400k" is a budget, not an offer), viewing requests, thanks, greetings
  and emojis.
- A message matching several reasons gets the first of REASON_PRIORITY: an explicit request for a
  person wins, then a complaint, then an offer, then legal, then financing.

Rules run over `kit.text.fold`ed text (case and accents ignored) on word boundaries. Every
language's table is tried on every message, because customers mix languages and short messages
("desconto?") carry no language signal of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_assistant.ai.language import identify
from whatsapp_assistant.escalation import rules_en, rules_es, rules_pt
from whatsapp_assistant.escalation.patterns import Rule, RuleTable
from whatsapp_assistant.kit.text import fold

REASON_PRIORITY: tuple[str, ...] = (
    "human_request",
    "objection",
    "negotiation",
    "legal",
    "financing",
)
TABLES: tuple[RuleTable, ...] = (rules_en.TABLE, rules_es.TABLE, rules_pt.TABLE)

# Opt-out and opt-in are whole-message keywords only (after folding and dropping punctuation):
# "please don't stop sending me listings" must never unsubscribe anyone. Cancel words
# (CANCEL, CANCELAR, CANCELA) are not among them: a customer with a viewing booked means the
# viewing (scheduling.intents reads them), and opting them out would silence the agent's number.
OPT_OUT_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"stop", "stopall", "unsubscribe", "end", "quit"}),
    "es": frozenset({"baja", "parar", "para", "alto"}),
    "pt": frozenset({"parar", "sair", "stop"}),
}
OPT_IN_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"start", "unstop", "subscribe"}),
    "es": frozenset({"alta", "empezar", "iniciar"}),
    "pt": frozenset({"iniciar", "comecar", "voltar"}),
}
_OPT_OUT = frozenset(word for words in OPT_OUT_WORDS.values() for word in words)
_OPT_IN = frozenset(word for words in OPT_IN_WORDS.values() for word in words)


@dataclass(frozen=True)
class Detection:
    """Why a message hands over: the reason, the rule that matched (for the audit log), language."""

    reason: str
    rule: str
    language: str


@dataclass(frozen=True)
class _Compiled:
    language: str
    rules: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]
    benign: tuple[re.Pattern[str], ...]


def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")


def _compile_rules(
    language: str, reason: str, rules: tuple[Rule, ...]
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((f"{language}.{reason}.{name}", _bounded(regex)) for name, regex in rules)


def _compile(table: RuleTable) -> _Compiled:
    return _Compiled(
        language=table.language,
        rules={
            reason: _compile_rules(table.language, reason, rules)
            for reason, rules in table.rules.items()
        },
        benign=tuple(_bounded(regex) for _, regex in table.benign),
    )


_COMPILED: tuple[_Compiled, ...] = tuple(_compile(table) for table in TABLES)


def _normalise(text: str) -> str:
    """Folded, with typographic apostrophes made plain and runs of spaces made one."""
    return " ".join(fold(text).replace("’", "'").split())


def _benign_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for table in _COMPILED for p in table.benign for m in p.finditer(text)]


def _counts(match: re.Match[str], benign: list[tuple[int, int]]) -> bool:
    """A match inside a benign phrase ("is the price negotiable?") does not count."""
    start, end = match.span()
    return not any(b_start <= start and end <= b_end for b_start, b_end in benign)


def _first_rule(
    table: _Compiled, reason: str, text: str, benign: list[tuple[int, int]]
) -> str | None:
    for rule_id, pattern in table.rules.get(reason, ()):
        if any(_counts(m, benign) for m in pattern.finditer(text)):
            return rule_id
    return None


def detect(text: str) -> Detection | None:
    """The reason this customer message must go to the agent, or None when the AI may answer."""
    normalised = _normalise(text)
    benign = _benign_spans(normalised)
    for reason in REASON_PRIORITY:
        hits = {
            table.language: rule_id
            for table in _COMPILED
            if (rule_id := _first_rule(table, reason, normalised, benign)) is not None
        }
        if hits:
            # The message's own language wins when clear; otherwise that of the matching table.
            fallback = next(iter(hits))
            language = identify(text) or fallback
            return Detection(reason, hits.get(language, hits[fallback]), language)
    return None


def _keyword(text: str) -> str:
    """The message reduced to folded words: "STOP!" and " stop. " both read "stop"."""
    return " ".join(re.sub(r"[\W_]+", " ", fold(text)).split())


def keyword_languages(text: str) -> tuple[str, ...]:
    """The languages whose opt-out or opt-in list holds the whole message ("baja" -> ("es",))."""
    word = _keyword(text)
    return tuple(
        language
        for language in OPT_OUT_WORDS
        if word in OPT_OUT_WORDS[language] or word in OPT_IN_WORDS[language]
    )


def is_opt_out(text: str) -> bool:
    """The whole message is an opt-out keyword (STOP, BAJA, PARAR, ...) and nothing else."""
    return _keyword(text) in _OPT_OUT


def is_opt_in(text: str) -> bool:
    """The whole message is an opt-in keyword (START, ALTA, VOLTAR, ...) and nothing else."""
    return _keyword(text) in _OPT_IN
