"""Every /api/v1 operation, fuzzed from the app's own OpenAPI document, keeps its promises.

A signed-in account that holds a listing, a conversation, a channel, a spare API key and a
viewing calls every operation with generated inputs; known ids are mixed in so the routes that
take an id are exercised beyond 404. All of schemathesis's stateless checks run on every answer:
no 5xx, every status and content type documented, the body matching its schema.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.builders import book_by_hand, create_property
from tests.conftest import ApiAccount
from tests.settings import tuned
from whatsapp_assistant.app import create_app
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database

EXAMPLES_PER_MODE = 10  # per operation: positive and negative inputs each
Ids = dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served_app(settings: Settings) -> Iterator[str]:
    """The app under uvicorn in its own thread: its lifespan, engine and jobs live on that loop."""
    # A Meta number in a generated body is checked at a generated graph_url: a second at most.
    quick = tuned(settings, meta_cloud_timeout_seconds=1, meta_cloud_max_attempts=1)
    config = uvicorn.Config(
        create_app(quick),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="schemathesis-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the app did not start"
        assert time.monotonic() < deadline, "the app did not start in time"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
async def known_ids(db: Database, api_account: ApiAccount, served_app: str) -> Ids:
    """The account's own objects, by the path parameter that names them."""
    async with db.session_scope() as session:
        prop = await create_property(session, api_account.account_id)
    headers = api_account.headers
    async with httpx.AsyncClient(base_url=served_app, headers=headers) as http:
        sent = await http.post("/api/v1/simulator/messages", json={"text": "hello"})
        assert sent.status_code == 202, sent.text
        [conversation] = (await http.get("/api/v1/conversations")).json()
        channels = (await http.get("/api/v1/channels")).json()
        # Revoking this one must not sign the fuzzer out: it calls with api_account's key.
        spare = await http.post("/api/v1/api-keys", json={"name": "spare"})
        assert spare.status_code == 201, spare.text
        viewing_id = await book_by_hand(http, {}, str(prop.id))
        later = await http.post(
            f"/api/v1/conversations/{conversation['id']}/scheduled",
            json={"text": "see you", "due_at": "2031-03-03T09:00:00+00:00"},
        )
        assert later.status_code == 201, later.text
    return {
        "property_id": str(prop.id),
        "conversation_id": conversation["id"],
        "channel_id": channels[0]["id"],
        "key_id": spare.json()["id"],
        "viewing_id": viewing_id,
        "scheduled_id": later.json()["id"],
    }


@pytest.fixture
def api_schema(served_app: str) -> BaseSchema:
    schema = schemathesis.openapi.from_url(
        f"{served_app}/openapi.json", config=SchemathesisConfig.from_dict({})
    )
    return (
        schema.include(path_regex="^/api/v1/")
        # An endless text/event-stream: tests/web/test_realtime.py reads it instead.
        .exclude(path="/api/v1/events")
    )


# Where the domain checks more than a JSON schema says, a schema-valid input may be refused with a
# documented 422: these operations skip only the "schema-valid input is accepted" check.
LOOSER_SCHEMA_THAN_VALIDATION = {
    # `price` and `area_sqm` are documented as any string (pydantic gives Decimal no pattern).
    "POST /api/v1/properties": "decimal strings",
    "GET /api/v1/properties": "decimal strings in min_price and max_price",
    # PropertyUpdate documents null for every field; null is refused ("leave the field out").
    "PATCH /api/v1/properties/{property_id}": "null fields, decimal strings",
    # The CSV's content (a header naming `title`, its rows) is not something a schema can say.
    "POST /api/v1/properties/import": "CSV content",
    # `owner_phone` must be a dialable phone number.
    "PATCH /api/v1/account/settings": "phone numbers",
    # A time zone must be a known IANA name; ranges must end after they start and not overlap.
    "PUT /api/v1/account/schedule": "time zone names, ordered and disjoint ranges",
    "PUT /api/v1/availability": "ordered and disjoint ranges",
    # A viewing is booked or moved from now on: a time in the past is refused.
    "POST /api/v1/viewings": "times before now",
    "POST /api/v1/viewings/{viewing_id}/reschedule": "times before now",
    # Send-later is for the future; a ladder's steps each come after the one before.
    "POST /api/v1/conversations/{conversation_id}/scheduled": "times before now",
    "PUT /api/v1/account/followups": "increasing steps",
    # A Meta number is checked against Graph before it is saved: one it refuses, or cannot be
    # reached at, is a documented 422.
    "POST /api/v1/channels": "a Meta number Graph must know",
}


def fuzz(operation: APIOperation, mode: GenerationMode, auth: dict[str, str], ids: Ids) -> None:
    """Hypothesis examples of one operation in one mode, each answer checked by every check."""

    @given(case=operation.as_strategy(generation_mode=mode), owned=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        derandomize=True,  # the same inputs on every run: the suite must not flap
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case, owned: bool) -> None:
        if owned:
            case.path_parameters = {
                name: ids.get(name, value) for name, value in (case.path_parameters or {}).items()
            }
        case.call_and_validate(headers=auth, timeout=10, excluded_checks=excluded)

    excluded = (
        [positive_data_acceptance] if operation.label in LOOSER_SCHEMA_THAN_VALIDATION else []
    )

    run()


def test_every_operation_keeps_its_documented_promises(
    api_schema: BaseSchema, api_account: ApiAccount, known_ids: Ids
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20, "the schema lost its operations"
    for operation in operations:
        for mode in GenerationMode:
            try:
                fuzz(operation, mode, api_account.headers, known_ids)
            except Unsatisfiable:
                continue  # nothing to get wrong: an operation without parameters or a body
            # Every operation runs and all failures are reported (a FailureGroup lists the checks).
            except (Exception, FailureGroup) as exc:
                failures.append(f"{operation.label} ({mode}):\n{exc}")
    assert not failures, "\n\n".join(failures)
