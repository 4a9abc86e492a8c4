"""MetaCloudAdapter's list messages against the fake Graph over real HTTP: the shape Graph
takes, texts trimmed to its limits rather than refused, and what the fake refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.channels.test_meta_cloud_send import _channel
from tests.fakes.meta_graph import FakeMetaGraph
from whatsapp_assistant.channels.base import SendsInteractive
from whatsapp_assistant.channels.green_api.adapter import GreenAPIAdapter
from whatsapp_assistant.channels.meta_cloud.adapter import MetaCloudAdapter
from whatsapp_assistant.channels.simulator.adapter import SimulatorAdapter
from whatsapp_assistant.channels.types import ChoiceRow, OutboundChoice
from whatsapp_assistant.config import MetaCloudSettings

ROWS = (
    ChoiceRow(id="slot:a:2026-12-12T10:00:00+00:00", title="Sat 12 Dec, 10:00", description="T2"),
    ChoiceRow(id="slot:a:2026-12-12T11:00:00+00:00", title="Sat 12 Dec, 11:00"),
)


@pytest.fixture
async def adapter() -> AsyncIterator[MetaCloudAdapter]:
    made = MetaCloudAdapter(MetaCloudSettings(backoff_seconds=0.01, max_attempts=1))
    yield made
    await made.aclose()


def _choice(**changes: object) -> OutboundChoice:
    values: dict[str, object] = {
        "chat_id": "351912345678@c.us",
        "body": "Which one suits you?",
        "button": "See the times",
        "rows": ROWS,
    }
    return OutboundChoice(**(values | changes))  # type: ignore[arg-type]


class TestSendList:
    async def test_a_list_has_one_row_per_choice_under_the_body(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        receipt = await adapter.send_interactive(_channel(fake_meta_graph), _choice())
        [sent] = fake_meta_graph.sent_messages
        assert (sent["type"], sent["to"]) == ("interactive", "+351912345678")
        assert sent["interactive"] == {
            "type": "list",
            "body": {"text": "Which one suits you?"},
            "action": {
                "button": "See the times",
                "sections": [
                    {
                        "rows": [
                            {"id": ROWS[0].id, "title": ROWS[0].title, "description": "T2"},
                            {"id": ROWS[1].id, "title": ROWS[1].title},
                        ]
                    }
                ],
            },
        }
        assert receipt.provider_message_id.startswith("wamid.")

    async def test_texts_over_graphs_limits_are_trimmed_not_refused(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        long = ChoiceRow(id="slot:x", title="Saturday 12 December at 10:00", description="d" * 90)
        choice = _choice(
            rows=(long,), button="Choose one of the times", body="b" * 5000, header="h" * 80
        )
        await adapter.send_interactive(_channel(fake_meta_graph), choice)
        [sent] = fake_meta_graph.sent_interactive
        [row] = sent["action"]["sections"][0]["rows"]
        assert row["title"] == "Saturday 12 December at…"  # 24 characters
        assert len(row["description"]) == 72 and row["description"].endswith("…")
        assert len(sent["action"]["button"]) <= 20
        assert len(sent["body"]["text"]) == 4096
        assert len(sent["header"]["text"]) == 60

    async def test_more_than_ten_rows_is_a_bug_of_the_caller(
        self, adapter: MetaCloudAdapter, fake_meta_graph: FakeMetaGraph
    ) -> None:
        rows = tuple(ChoiceRow(id=f"slot:{n}", title=str(n)) for n in range(11))
        with pytest.raises(ValueError, match="10 rows"):
            await adapter.send_interactive(_channel(fake_meta_graph), _choice(rows=rows))
        assert fake_meta_graph.requests == []


class TestTheFakeRefusesWhatGraphRefuses:
    @pytest.mark.parametrize(
        "interactive",
        [
            {"type": "list", "body": {"text": "b"}, "action": {"button": "x" * 21, "sections": []}},
            {
                "type": "list",
                "body": {"text": "b"},
                "action": {"button": "b", "sections": [{"rows": [{"id": "1", "title": "t" * 25}]}]},
            },
            {
                "type": "button",
                "body": {"text": "b"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": str(n), "title": "t"}} for n in range(4)
                    ]
                },
            },
        ],
        ids=["button label", "row title", "four buttons"],
    )
    async def test_a_shape_over_the_limits_answers_131009(
        self, fake_meta_graph: FakeMetaGraph, interactive: dict[str, object]
    ) -> None:
        body = {"messaging_product": "whatsapp", "to": "+351912345678", "type": "interactive"}
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{fake_meta_graph.base_url}/{fake_meta_graph.phone_number_id}/messages",
                json=body | {"interactive": interactive},
                headers={"Authorization": f"Bearer {fake_meta_graph.token}"},
            )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 131009
        assert fake_meta_graph.sent_messages == []


def test_only_the_meta_adapter_sends_lists() -> None:
    assert issubclass(MetaCloudAdapter, SendsInteractive)
    assert not issubclass(GreenAPIAdapter, SendsInteractive)
    assert not issubclass(SimulatorAdapter, SendsInteractive)
