"""The one Jinja2 environment of the pages: templates under web/templates, autoescaped."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from whatsapp_assistant.escalation.messages import reason_label

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# WhatsApp's own markup: *bold*, _italic_, ~strike~ (one line, no space inside the markers).
_MARKS = [
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
]


def whatsapp_markup(text: str) -> Markup:
    """A message as WhatsApp shows it; the text is escaped first, so only our tags are HTML."""
    html = str(escape(text))
    for pattern, tag in _MARKS:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    return Markup(html)  # noqa: S704 - built from escaped text and fixed tags only


def whatsapp_plain(text: str) -> str:
    """The text without the markers, for one-line previews."""
    for pattern, _ in _MARKS:
        text = pattern.sub(r"\1", text)
    return text


def file_size(size: object) -> str:
    """A file's length as the thread shows it: "23 MB", "340 KB", "12 bytes"."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return ""
    if size >= 1024 * 1024:
        return f"{round(size / (1024 * 1024))} MB"
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} bytes"


templates.env.filters["whatsapp"] = whatsapp_markup
templates.env.filters["file_size"] = file_size
templates.env.filters["whatsapp_plain"] = whatsapp_plain
# Words the pages use for stored codes.
templates.env.globals["reason_label"] = reason_label
