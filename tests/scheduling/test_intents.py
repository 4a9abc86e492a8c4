"""Viewing intents: cancelling, moving and asking for a viewing, from real phrasings in en/es/pt."""

from __future__ import annotations

import pytest

from whatsapp_assistant.escalation.rules import is_opt_out
from whatsapp_assistant.scheduling.intents import asks_for_viewing, viewing_intent

CANCEL = [
    ("en", "I can't make it"),
    ("en", "cant make it tomorrow, sorry"),
    ("en", "Please cancel the viewing"),
    ("en", "CANCEL"),
    ("en", "I won't be able to come on Saturday"),
    ("en", "something came up, we're not coming"),
    ("es", "cancelar"),
    ("es", "Cancela la visita por favor"),
    ("es", "no puedo ir"),
    ("es", "No podré ir mañana, lo siento"),
    ("es", "al final no voy a poder"),
    ("es", "tengo que anular la cita"),
    ("pt", "cancelar a visita"),
    ("pt", "CANCELAR"),
    ("pt", "não posso ir"),
    ("pt", "nao vou conseguir ir amanha"),
    ("pt", "tenho de desmarcar"),
    ("pt", "Desculpe, não vou poder"),
]
RESCHEDULE = [
    ("en", "can we move it to Monday?"),
    ("en", "Could we reschedule?"),
    ("en", "I can't make it, can we do Thursday instead?"),
    ("en", "is another day possible?"),
    ("en", "can we change the time?"),
    ("es", "¿podemos cambiarla al lunes?"),
    ("es", "podemos cambiarla al lunes"),
    ("es", "¿se puede pasar a otro día?"),
    ("es", "quiero cambiar la hora"),
    ("es", "no puedo ir, ¿podemos aplazarla?"),
    ("pt", "podemos mudar para segunda?"),
    ("pt", "da para remarcar?"),
    ("pt", "pode ser outro dia?"),
    ("pt", "queria adiar a visita"),
    ("pt", "não posso ir, dá para mudar para sábado às 11?"),
]
NEITHER = [
    ("en", "ok see you then"),
    ("en", "where is the flat exactly?"),
    ("en", "can I see it?"),
    ("en", "we are moving to Lisbon in March"),
    ("es", "vale, nos vemos el sábado"),
    ("es", "no voy a necesitar parking"),
    ("es", "quiero cambiar de piso"),
    ("pt", "perfeito, obrigado"),
    ("pt", "vou mudar para Lisboa em março"),
    ("pt", "não vou precisar de garagem"),
    ("pt", "STOP"),
]


class TestViewingIntent:
    @pytest.mark.parametrize(("language", "text"), CANCEL)
    def test_cancelling_phrases_cancel(self, language: str, text: str) -> None:
        assert viewing_intent(text, language) == "cancel"

    @pytest.mark.parametrize(("language", "text"), RESCHEDULE)
    def test_moving_phrases_reschedule(self, language: str, text: str) -> None:
        assert viewing_intent(text, language) == "reschedule"

    @pytest.mark.parametrize(("language", "text"), NEITHER)
    def test_other_messages_are_neither(self, language: str, text: str) -> None:
        assert viewing_intent(text, language) is None

    def test_a_phrase_in_another_language_than_the_conversations_still_counts(self) -> None:
        assert viewing_intent("cancelar pls", "en") == "cancel"
        assert viewing_intent("can we reschedule?", "pt") == "reschedule"

    def test_an_unknown_language_is_read_with_every_table(self) -> None:
        assert viewing_intent("não posso ir", "fr") == "cancel"

    @pytest.mark.parametrize(("language", "text"), CANCEL)
    def test_no_cancelling_phrase_opts_the_customer_out(self, language: str, text: str) -> None:
        assert not is_opt_out(text)


class TestAsksForViewing:
    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("en", "can I see it?"),
            ("en", "I'd like to book a viewing"),
            ("en", "Could we visit on Saturday?"),
            ("en", "when can I view the flat?"),
            ("en", "I'd like to see the Graça flat, are you free on Saturday?"),
            ("en", "could we see the big T3 on Friday?"),
            ("es", "¿puedo verlo el sábado?"),
            ("es", "quisiera ver el piso"),
            ("es", "me gustaría hacer una visita"),
            ("es", "podemos ver la casa mañana?"),
            ("es", "¿se puede ver el ático de Chamberí?"),
            ("pt", "posso visitar?"),
            ("pt", "gostaria de ver o apartamento"),
            ("pt", "dá para marcar uma visita?"),
            ("pt", "posso ve-lo amanha?"),
            ("pt", "dava para ver o T2 da Graça?"),
        ],
    )
    def test_asking_to_see_the_place(self, language: str, text: str) -> None:
        assert asks_for_viewing(text, language)

    @pytest.mark.parametrize(
        ("language", "text"),
        [
            ("en", "how much is it?"),
            ("en", "see you tomorrow"),
            ("en", "I'd like to see the prices first"),
            ("es", "¿cuántos dormitorios tiene?"),
            ("es", "vale, gracias"),
            ("pt", "qual é o preço?"),
            ("pt", "vou ver com a minha mulher"),
        ],
    )
    def test_other_questions_do_not(self, language: str, text: str) -> None:
        assert not asks_for_viewing(text, language)
