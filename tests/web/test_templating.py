"""How message text is shown: WhatsApp's markup becomes HTML, anything else stays text."""

from whatsapp_assistant.web.templating import whatsapp_markup, whatsapp_plain


def test_bold_italic_and_strike_are_rendered() -> None:
    html = whatsapp_markup("*Sunny T2* in _Graça_ for ~€390k~ €372k")
    assert str(html) == "<strong>Sunny T2</strong> in <em>Graça</em> for <s>€390k</s> €372k"


def test_customer_html_is_escaped_even_inside_markers() -> None:
    html = str(whatsapp_markup("*<script>alert(1)</script>* & <b>hi</b>"))
    assert "<script>" not in html and "<b>" not in html
    assert html.startswith("<strong>&lt;script&gt;")
    assert "&amp;" in html


def test_lone_or_spaced_markers_stay_as_typed() -> None:
    assert str(whatsapp_markup("2 * 3 * 4 and snake_case_name")) == "2 * 3 * 4 and snake_case_name"


def test_previews_drop_the_markers() -> None:
    assert whatsapp_plain("1. *Sunny T2* — _new_") == "1. Sunny T2 — new"
