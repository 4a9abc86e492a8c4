"""The demo account: sample listings and a persona, so a new user sees the assistant at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from whatsapp_assistant.accounts import service as accounts
from whatsapp_assistant.accounts import sessions
from whatsapp_assistant.accounts.models import User
from whatsapp_assistant.accounts.schemas import AccountCreate, PersonaData
from whatsapp_assistant.app import build_database
from whatsapp_assistant.config import Settings
from whatsapp_assistant.properties.importer import import_csv
from whatsapp_assistant.properties.samples import sample_listings_path

DEMO_NAME = "Casa Lusa Imóveis"
DEMO_EMAIL = "demo@casalusa.example"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - shown to the user on purpose; never in production


@dataclass(frozen=True)
class DemoInfo:
    account_id: uuid.UUID
    email: str
    password: str
    api_key: str
    listings: int


async def find_demo_account(settings: Settings) -> uuid.UUID | None:
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            user = await accounts.find_user_by_email(session, DEMO_EMAIL)
            return user.account_id if user else None
    finally:
        await db.dispose()


async def ensure_demo(settings: Settings) -> DemoInfo:
    """Idempotent: re-running refreshes the sample listings and issues a fresh API key."""
    db = build_database(settings)
    try:
        async with db.session_scope() as session:
            user = (await session.execute(select(User).where(User.email == DEMO_EMAIL))).scalar()
            if user is None:
                created = await accounts.sign_up(
                    session,
                    AccountCreate(name=DEMO_NAME, email=DEMO_EMAIL, password=DEMO_PASSWORD),
                )
                account_id, api_key = created.account_id, created.api_key
            else:
                account_id = user.account_id
                api_key = await accounts.create_api_key(session, account_id, name="demo")
                # The printed sign-in must work, even after someone changed the password.
                if not accounts.check_password(user.password_hash, DEMO_PASSWORD):
                    await sessions.reset_password(session, DEMO_EMAIL, DEMO_PASSWORD)
            await accounts.update_persona(
                session,
                account_id,
                PersonaData(
                    style="friendly",
                    agent_name="Rita Almeida",
                    agency_name=DEMO_NAME,
                    custom_instructions="Offer a viewing when a customer likes a listing.",
                ),
            )
            text = sample_listings_path().read_text(encoding="utf-8")
            report = await import_csv(session, account_id, text)
        return DemoInfo(
            account_id=account_id,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            api_key=api_key,
            listings=report.created + report.updated,
        )
    finally:
        await db.dispose()


def instructions(info: DemoInfo, settings: Settings) -> str:
    base = settings.public_base_url.rstrip("/")
    return "\n".join(
        [
            f"Demo account ready: {DEMO_NAME} ({info.listings} sample listings)",
            f"  account id : {info.account_id}",
            f"  sign in    : {base}/login  as {info.email} / {info.password}",
            f"  API key    : {info.api_key}",
            "",
            "Try it:",
            f"  1. open {base}/login and sign in with the email and password above",
            f"  2. in one tab, be a customer: {base}/simulator",
            f"  3. in another tab, watch it live and take it over: {base}/inbox",
            "  or: whatsapp-assistant chat        # be a customer in this terminal",
            f"  curl -H 'Authorization: Bearer {info.api_key}' {base}/api/v1/properties",
            f"  API docs: {base}/docs",
        ]
    )
