"""The command line as a user runs it: real processes, the test database, the fake Green API."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conversations.harness import rows_settled
from tests.fakes.green_api import FakeGreenAPI
from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.app import build_database
from whatsapp_assistant.config import Settings
from whatsapp_assistant.db.session import Database

FIXTURE = Path(__file__).parent / "fixtures" / "greenapi" / "incoming_text.json"
CLI = [str(Path(sys.executable).parent / "whatsapp-assistant")]  # the installed command


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "LLM_PROVIDER": "offline",
        "REPLY_DEBOUNCE_SECONDS": "0",
        "ANTHROPIC_API_KEY": "",
    }


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [*CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def create_account(env: dict[str, str], email: str = "rita@casalusa.example") -> dict[str, str]:
    done = run(
        env,
        "accounts",
        "create",
        "--name",
        "Casa Lusa",
        "--email",
        email,
        "--password",
        "s3cret-pass",
    )
    assert done.returncode == 0, done.stderr
    created: dict[str, str] = json.loads(done.stdout)
    return created


class TestAccountsCreate:
    @pytest.mark.usefixtures("db")
    def test_prints_one_json_object_with_the_key_shown_once(self, env: dict[str, str]) -> None:
        created = create_account(env)
        assert set(created) >= {"account_id", "email", "api_key"}
        assert created["api_key"].startswith("wa_")

    @pytest.mark.usefixtures("db")
    def test_bad_email_is_refused_with_a_clear_message(self, env: dict[str, str]) -> None:
        done = run(
            env, "accounts", "create", "--name", "X", "--email", "nope", "--password", "12345678"
        )
        assert done.returncode == 2
        assert "email" in done.stderr
        assert done.stdout == ""

    @pytest.mark.usefixtures("db")
    def test_same_email_twice_is_refused(self, env: dict[str, str]) -> None:
        create_account(env)
        again = run(
            env,
            "accounts",
            "create",
            "--name",
            "Y",
            "--email",
            "rita@casalusa.example",
            "--password",
            "another-pass",
        )
        assert again.returncode == 2
        assert "exists" in again.stderr


class TestUsers:
    """users create | reset-password, through the installed command."""

    async def test_create_adds_a_person_who_signs_in_to_the_account(
        self, env: dict[str, str], db: Database
    ) -> None:
        account = (await asyncio.to_thread(create_account, env))["account_id"]
        done = await asyncio.to_thread(
            run,
            env,
            "users",
            "create",
            "--account",
            account,
            "--email",
            "Ana@Casalusa.example",
            "--password",
            "ana-password",
            "--name",
            "Ana",
        )
        assert done.returncode == 0, done.stderr
        user = json.loads(done.stdout)
        assert user | {"id": "-"} == {
            "id": "-",
            "account_id": account,
            "email": "ana@casalusa.example",
            "name": "Ana",
        }
        async with db.session_scope() as session:
            stored = await accounts.find_user_by_email(session, "ana@casalusa.example")
            assert stored is not None
            assert stored.password_hash.startswith("$argon2id$")
            assert "ana-password" not in stored.password_hash
            token, _ = await sessions.sign_in(
                session, "ana@casalusa.example", "ana-password", max_age=timedelta(days=1)
            )
        assert token

    @pytest.mark.usefixtures("db")
    def test_create_for_an_unknown_account_is_refused(self, env: dict[str, str]) -> None:
        done = run(
            env,
            "users",
            "create",
            "--account",
            str(uuid.uuid4()),
            "--email",
            "a@b.example",
            "--password",
            "12345678",
        )
        assert done.returncode == 2
        assert "no account" in done.stderr

    async def test_reset_password_signs_the_user_out_everywhere(
        self, env: dict[str, str], db: Database
    ) -> None:
        await asyncio.to_thread(create_account, env)
        async with db.session_scope() as session:
            token, _ = await sessions.sign_in(
                session, "rita@casalusa.example", "s3cret-pass", max_age=timedelta(days=1)
            )
        done = await asyncio.to_thread(
            run,
            env,
            "users",
            "reset-password",
            "--email",
            "rita@casalusa.example",
            "--password",
            "brand-new-pass",
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["sessions_revoked"] == 1
        async with db.session_scope() as session:
            assert await sessions.find_session(session, token, idle=timedelta(days=1)) is None
            await sessions.sign_in(
                session, "rita@casalusa.example", "brand-new-pass", max_age=timedelta(days=1)
            )

    @pytest.mark.usefixtures("db")
    def test_reset_password_of_an_unknown_email_is_refused(self, env: dict[str, str]) -> None:
        done = run(env, "users", "reset-password", "--email", "x@y.example", "--password", "p" * 8)
        assert done.returncode == 2
        assert "no user" in done.stderr

    async def test_demo_prints_a_sign_in_that_works_even_after_a_reset(
        self, env: dict[str, str], db: Database
    ) -> None:
        await asyncio.to_thread(run, env, "demo")
        done = await asyncio.to_thread(
            run,
            env,
            "users",
            "reset-password",
            "--email",
            "demo@casalusa.example",
            "--password",
            "changed-it",
        )
        assert done.returncode == 0, done.stderr
        demo = await asyncio.to_thread(run, env, "demo")
        assert demo.returncode == 0, demo.stderr
        line = next(line for line in demo.stdout.splitlines() if "sign in" in line)
        assert "/login" in line
        email, password = line.split(" as ")[1].split(" / ")
        async with db.session_scope() as session:
            await sessions.sign_in(session, email, password.strip(), max_age=timedelta(days=1))


class TestPropertiesImport:
    @pytest.mark.usefixtures("db")
    def test_reports_each_bad_row_and_imports_the_good_ones(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        account = create_account(env)
        sheet = tmp_path / "listings.csv"
        sheet.write_text(
            "title,listing_type,property_type,price,city,bedrooms\n"
            "Sunny T2 in Graça,sale,apartment,372000,Lisbon,2\n"
            "Broken row,swap,apartment,-5,Lisbon,2\n",
            encoding="utf-8",
        )
        done = run(env, "properties", "import", "--account", account["account_id"], str(sheet))
        assert done.returncode == 1  # some rows failed
        assert "created 1" in done.stderr
        assert "line 3" in done.stderr


class TestDemoAndChat:
    @pytest.mark.usefixtures("db")
    def test_demo_then_chat_answers_with_a_sample_listing(self, env: dict[str, str]) -> None:
        first = run(env, "demo")
        assert first.returncode == 0, first.stderr
        assert "12 sample listings" in first.stdout
        assert run(env, "demo").returncode == 0  # idempotent

        chat = run(env, "chat", stdin="I want to buy a 2 bedroom flat in Lisbon up to 400k\n")
        assert chat.returncode == 0, chat.stderr
        assert "Sunny T2 in Graça with terrace" in chat.stdout

    @pytest.mark.usefixtures("db")
    def test_worker_runs_on_postgresql_and_refuses_sqlite(
        self, env: dict[str, str], database_url: str
    ) -> None:
        if database_url.startswith("sqlite"):
            done = run(env, "worker")
            assert done.returncode == 2
            assert "needs PostgreSQL" in done.stderr
            return
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [*CLI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert process.stdout is not None
            lines = iter(process.stdout.readline, "")
            assert any("worker running" in line for line in lines)
        finally:
            process.terminate()
            process.wait(timeout=30)

    @pytest.mark.usefixtures("db")
    def test_worker_refuses_an_unknown_queue_by_name(self, env: dict[str, str]) -> None:
        done = run(env, "worker", "--queues", "send,replies")
        assert done.returncode == 2
        assert "unknown queue replies" in done.stderr
        # The console wraps at its width: compare the words.
        assert "send, reply, scheduled, maintenance, media" in " ".join(done.stderr.split())


def _rows_settled(env: dict[str, str]) -> None:
    """The harness's rows_settled, from this synchronous test, on the processes' database."""

    async def settled() -> None:
        db = build_database(Settings.model_validate({"database": {"url": env["DATABASE_URL"]}}))
        try:
            await rows_settled(db, within=30)
        finally:
            await db.dispose()

    asyncio.run(settled())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(env: dict[str, str], db: object) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    account = create_account(env)
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, account
    finally:
        process.terminate()
        process.wait(timeout=30)


class TestServe:
    def test_webhook_to_a_running_server_sends_one_reply_naming_a_listing(
        self, server: tuple[str, dict[str, str]], fake_green_api: FakeGreenAPI, env: dict[str, str]
    ) -> None:
        base, account = server
        auth = {"Authorization": f"Bearer {account['api_key']}"}
        listing = {
            "title": "Sunny T2 in Graça with terrace",
            "listing_type": "sale",
            "property_type": "apartment",
            "price": 372000,
            "city": "Lisbon",
            "neighborhood": "Graça",
            "bedrooms": 2,
        }
        assert (
            httpx.post(f"{base}/api/v1/properties", headers=auth, json=listing).status_code == 201
        )
        channel = {
            "type": "green_api",
            "id_instance": "1101823456",
            "api_token": fake_green_api.token,
            "api_url": fake_green_api.base_url,
            "webhook_token": "live-webhook-token-0001",
        }
        assert httpx.post(f"{base}/api/v1/channels", headers=auth, json=channel).status_code == 201

        hook = {
            "Authorization": "Bearer live-webhook-token-0001",
            "Content-Type": "application/json",
        }
        body = FIXTURE.read_bytes()
        assert (
            httpx.post(f"{base}/webhooks/green-api", headers=hook, content=body).status_code == 200
        )
        assert (
            httpx.post(f"{base}/webhooks/green-api", headers=hook, content=body).status_code == 200
        )

        deadline = time.monotonic() + 30
        while not fake_green_api.sent_messages and time.monotonic() < deadline:
            time.sleep(0.1)
        _rows_settled(env)  # every reply and send is done: a second reply could come no more
        [sent] = fake_green_api.sent_messages
        assert sent["chatId"] == "447700900123@c.us"
        assert "Sunny T2 in Graça with terrace" in sent["message"]


class TestServeWorkers:
    def test_several_web_processes_need_postgresql(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        on_sqlite = env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/refused.db"}
        done = run(on_sqlite, "serve", "--workers", "2")
        assert done.returncode == 2
        assert "--workers above 1 needs PostgreSQL" in done.stderr

    @pytest.mark.postgres
    @pytest.mark.usefixtures("db")
    def test_two_web_processes_and_a_worker_answer_a_customer_once(
        self, env: dict[str, str], fake_green_api: FakeGreenAPI
    ) -> None:
        port = _free_port()
        account = create_account(env)
        web = subprocess.Popen(  # noqa: S603 - our own CLI
            [*CLI, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        jobs = subprocess.Popen(  # noqa: S603 - our own CLI
            [*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for_health(base)
            auth = {"Authorization": f"Bearer {account['api_key']}"}
            channel = {
                "type": "green_api",
                "id_instance": "1101823456",
                "api_token": fake_green_api.token,
                "api_url": fake_green_api.base_url,
                "webhook_token": "live-webhook-token-0001",
            }
            created = httpx.post(f"{base}/api/v1/channels", headers=auth, json=channel)
            assert created.status_code == 201
            hook = {"Authorization": "Bearer live-webhook-token-0001"}
            for _ in range(4):  # spread over both processes, one stored
                answer = httpx.post(
                    f"{base}/webhooks/green-api", headers=hook, content=FIXTURE.read_bytes()
                )
                assert answer.status_code == 200
            deadline = time.monotonic() + 30
            while not fake_green_api.sent_messages and time.monotonic() < deadline:
                time.sleep(0.1)
            _rows_settled(env)  # every reply and send is done: a second reply could come no more
            assert len(fake_green_api.sent_messages) == 1
        finally:
            for process in (web, jobs):
                process.terminate()
                process.wait(timeout=30)


def _wait_for_health(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{base} never became healthy")
