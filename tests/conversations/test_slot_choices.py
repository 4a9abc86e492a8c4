"""with_choice: a reply's offer as the rows of a list, or no list when it would not fit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from whatsapp_assistant.conversations.outbox import CHOICE
from whatsapp_assistant.conversations.slot_choices import row_id, with_choice

LISTING = uuid.uuid4()
START = datetime(2026, 12, 12, 10, tzinfo=UTC)


def _offer(count: int) -> dict[str, object]:
    slots = [(START + timedelta(hours=n)).isoformat() for n in range(count)]
    return {
        "property_id": str(LISTING),
        "title": "T2 in Graça",
        "zone": "Europe/Lisbon",
        "slots": slots,
        "viewing_id": None,
    }


class TestWithChoice:
    def test_each_offered_time_is_a_row_named_by_listing_and_start(self) -> None:
        data = with_choice({"offer": _offer(2)}, language="pt")
        choice = data[CHOICE]
        assert isinstance(choice, dict)
        assert choice["button"] == "Ver horários"
        assert [row["id"] for row in choice["rows"]] == [
            row_id(LISTING, START),
            row_id(LISTING, START + timedelta(hours=1)),
        ]
        assert choice["rows"][0]["title"] == "sábado, 12 dez., 10:00"  # within 24
        assert choice["rows"][0]["description"] == "T2 in Graça"

    def test_more_times_than_a_list_holds_stay_text(self) -> None:
        assert CHOICE not in with_choice({"offer": _offer(11)}, language="en")

    def test_a_reply_without_an_offer_has_no_list(self) -> None:
        assert with_choice({"tools": []}, language="en") == {"tools": []}
