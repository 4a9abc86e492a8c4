"""Connecting channels and finding the channel a webhook or a send belongs to."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, inspect, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached

from whatsapp_assistant.channels.errors import SendError
from whatsapp_assistant.channels.models import Channel, ReceiveMode
from whatsapp_assistant.channels.schemas import GreenAPIChannelCreate, MetaCloudChannelCreate
from whatsapp_assistant.db.tenancy import for_account
from whatsapp_assistant.errors import Conflict, Invalid, NotFound
from whatsapp_assistant.kit.ids import new_token, same_secret


class ChannelNotFound(NotFound):
    code = "channel_not_found"


class ChannelTaken(Conflict):
    code = "channel_taken"


class CannotCheck(Invalid):
    code = "channel_cannot_be_checked"


class NoReceiveMode(Conflict):
    """Only a Green API channel chooses how it receives (the simulator's messages come from
    the page); a well-formed request about the wrong kind of channel."""

    code = "channel_has_no_receive_mode"


class ChannelRefused(Invalid):
    """The provider refused the credentials or the number: nothing is saved."""

    code = "channel_refused"


class ProviderUnreachable(Invalid):
    """The provider did not answer at the URL given (or its own): nothing is saved."""

    code = "provider_unreachable"


# Green API waits seconds per attempt and retries; a person pressing a button waits no longer.
CHECK_DEADLINE_SECONDS = 15.0

CheckOutcome = Literal["state", "refused", "unreachable", "failed"]


@dataclass(frozen=True)
class ConnectionCheck:
    """What asking the provider for the instance's state gave.

    state: it answered (`state` holds its stateInstance); refused: it rejected the instance id
    or token (401/403); unreachable: no answer in time; failed: another error (`status_code`).
    """

    outcome: CheckOutcome
    state: str | None = None
    status_code: int | None = None


@runtime_checkable
class ReportsState(Protocol):
    """An adapter that can ask the provider whether the number is linked (Green API's can)."""

    async def get_state(self, channel: Channel) -> str: ...


def new_green_api_channel(
    account_id: uuid.UUID, data: GreenAPIChannelCreate, *, default_url: str
) -> Channel:
    """The channel `data` describes, not saved yet: it can be checked before it is stored."""
    return Channel(
        account_id=account_id,
        type="green_api",
        name=data.name or f"Green API {data.id_instance}",
        external_id=data.id_instance,
        api_url=str(data.api_url).rstrip("/") if data.api_url else default_url.rstrip("/"),
        api_token=data.api_token,
        webhook_token=data.webhook_token or new_token(nbytes=24),
        state="unknown",
        receive_mode=data.receive_mode,
    )


async def connect_green_api(
    session: AsyncSession, account_id: uuid.UUID, data: GreenAPIChannelCreate, *, default_url: str
) -> Channel:
    channel = new_green_api_channel(account_id, data, default_url=default_url)
    return await save_new_channel(session, channel)


def new_meta_cloud_channel(
    account_id: uuid.UUID, data: MetaCloudChannelCreate, *, default_url: str
) -> Channel:
    """The Meta number `data` describes, not saved yet: Graph is asked about it first. The app
    secret checks the webhooks' signatures, so it is the channel's webhook_token."""
    return Channel(
        account_id=account_id,
        type="meta_cloud",
        name=data.name or f"Meta {data.phone_number_id}",
        external_id=data.phone_number_id,
        api_url=str(data.graph_url).rstrip("/") if data.graph_url else default_url.rstrip("/"),
        api_token=data.access_token,
        webhook_token=data.app_secret,
        verify_token=data.verify_token,
        waba_id=data.waba_id,
        state="unknown",
    )


async def connect_checked(
    session: AsyncSession, adapters: Mapping[str, object], channel: Channel
) -> Channel:
    """Ask the provider about `channel` before it is stored: credentials or a number it
    refuses are not kept (ChannelRefused), nor is anything when it cannot be reached.

    The session must hold no write yet (see check_connection)."""
    check = await check_connection(adapters, channel)
    if check.outcome == "unreachable":
        raise ProviderUnreachable(
            f"no answer from {channel.api_url}: nothing was saved; check the URL or try again",
            field="graph_url" if channel.type == "meta_cloud" else "api_url",
        )
    if check.outcome == "refused":
        raise ChannelRefused(
            f"the provider refused this access token (HTTP {check.status_code})",
            field="access_token",
        )
    if check.outcome == "failed":
        raise ChannelRefused(
            f"the provider does not know this number under this token (HTTP {check.status_code})",
            field="phone_number_id",
        )
    return await save_new_channel(session, channel)


async def find_by_verify_token(session: AsyncSession, token: str) -> Channel | None:
    """The connected Meta channel whose verify token this is, compared in constant time with
    each (docs/providers.md, M2): the handshake names no number."""
    stmt = select(Channel).where(
        Channel.type == "meta_cloud", Channel.active.is_(True), Channel.verify_token != ""
    )
    rows = (await session.execute(stmt)).scalars().all()
    found = [row for row in rows if same_secret(token, row.verify_token)]
    return found[0] if found else None


async def save_new_channel(session: AsyncSession, channel: Channel) -> Channel:
    """Store a channel made by new_*_channel; ChannelTaken when its number is in use.

    Reconnecting an instance this account disconnected revives that channel, so its
    conversations carry on where they stopped.
    """
    stmt = select(Channel).where(
        Channel.type == channel.type, Channel.external_id == channel.external_id
    )
    known = (await session.execute(stmt)).scalar_one_or_none()
    if known is not None and not known.active and known.account_id == channel.account_id:
        known.name, known.api_url = channel.name, channel.api_url
        known.api_token, known.webhook_token = channel.api_token, channel.webhook_token
        known.verify_token, known.waba_id = channel.verify_token or "", channel.waba_id
        known.state, known.active = channel.state, True
        known.receive_mode = channel.receive_mode
        return known
    try:
        async with session.begin_nested():
            session.add(channel)
    except IntegrityError:
        if channel.type == "meta_cloud":
            raise ChannelTaken(
                "this phone number id is already connected", field="phone_number_id"
            ) from None
        raise ChannelTaken(
            "this Green API instance is already connected", field="id_instance"
        ) from None
    return channel


async def check_connection(
    adapters: Mapping[str, object], channel: Channel, *, deadline_seconds: float | None = None
) -> ConnectionCheck:
    """Ask the provider for the instance's state; a state it reports is kept on the channel.

    `deadline_seconds` defaults to CHECK_DEADLINE_SECONDS. Call it with no write pending on the
    session: on SQLite a held write lock would stall webhooks while the provider takes its time.
    """
    adapter = adapters.get(channel.type)
    if not isinstance(adapter, ReportsState):
        raise CannotCheck(f"a {channel.type} channel has no connection to check")
    try:
        async with asyncio.timeout(deadline_seconds or CHECK_DEADLINE_SECONDS):
            state = await adapter.get_state(channel)
    except TimeoutError:
        return ConnectionCheck("unreachable")
    except SendError as exc:
        return _failed_check(exc)
    channel.state = state
    return ConnectionCheck("state", state=state)


def _failed_check(error: SendError) -> ConnectionCheck:
    if error.status_code in {401, 403}:
        return ConnectionCheck("refused", status_code=error.status_code)
    if error.status_code is None:
        return ConnectionCheck("unreachable")
    return ConnectionCheck("failed", status_code=error.status_code)


async def get_or_create_simulator(session: AsyncSession, account_id: uuid.UUID) -> Channel:
    external_id = f"sim-{account_id}"
    stmt = select(Channel).where(Channel.type == "simulator", Channel.external_id == external_id)
    channel = (await session.execute(stmt)).scalar_one_or_none()
    if channel is None:
        channel = Channel(
            account_id=account_id, type="simulator", name="Simulator", external_id=external_id
        )
        session.add(channel)
        await session.flush()
    return channel


async def find_by_external_id(
    session: AsyncSession, channel_type: str, external_id: str
) -> Channel | None:
    """Webhook routing: not tenant-scoped, the provider's id is what identifies the tenant."""
    stmt = select(Channel).where(
        Channel.type == channel_type, Channel.external_id == external_id, Channel.active.is_(True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_for_webhook(
    session: AsyncSession, channel_type: str, external_id: str, *, cache_seconds: float
) -> Channel | None:
    """`find_by_external_id` through a short-lived per-process cache: every webhook carries
    its instance id and token, and a query per webhook to check them is most of its cost.

    The cached row (token included) serves this process for at most `cache_seconds`; any
    change of a channel or deletion of an account made through this process drops it at once.
    Another process's change shows here within `cache_seconds`.
    """
    if cache_seconds <= 0:
        return await find_by_external_id(session, channel_type, external_id)
    entries = _WEBHOOK_CHANNELS.setdefault(session.get_bind(), {})
    key = (channel_type, external_id)
    entry = entries.get(key)
    if entry is None or entry.expires_at <= time.monotonic():
        found = await find_by_external_id(session, channel_type, external_id)
        if found is None:
            entries.pop(key, None)  # an unknown id is not kept: it may be connected any moment
            return None
        entry = _Cached(_detached_copy(found), time.monotonic() + cache_seconds)
        entries[key] = entry
        return found
    # The copy joins this session as a loaded row would, with no query (and stays clean itself).
    return await session.merge(entry.channel, load=False)


@dataclass(frozen=True)
class _Cached:
    channel: Channel
    expires_at: float


# Per engine, so two apps in one process (tests) never share rows.
_WEBHOOK_CHANNELS: WeakKeyDictionary[Engine | Connection, dict[tuple[str, str], _Cached]] = (
    WeakKeyDictionary()
)
_CHANGED_KEY = "channels_changed"


def _detached_copy(channel: Channel) -> Channel:
    values = {attr.key: getattr(channel, attr.key) for attr in inspect(Channel).column_attrs}
    copy = Channel(**values)
    make_transient_to_detached(copy)
    return copy


def _forget(keys: set[tuple[str, str]]) -> None:
    for entries in list(_WEBHOOK_CHANNELS.values()):
        for key in keys:
            entries.pop(key, None)


@sa_event.listens_for(Session, "after_flush")
def _channels_flushed(session: Session, _context: object) -> None:
    """A channel written through this process (new token, disconnected, revived) leaves the
    cache at once, and again at commit: a webhook may have re-read the old row in between."""
    changed: set[tuple[str, str]] = session.info.setdefault(_CHANGED_KEY, set())
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Channel):
            changed.add((row.type, row.external_id))
    _forget(changed)


@sa_event.listens_for(Session, "after_commit")
def _channels_committed(session: Session) -> None:
    _forget(session.info.pop(_CHANGED_KEY, set()))


async def list_channels(session: AsyncSession, account_id: uuid.UUID) -> Sequence[Channel]:
    """The connected ones; a disconnected channel lives on only through its conversations."""
    stmt = (
        for_account(select(Channel), Channel, account_id)
        .where(Channel.active.is_(True))
        .order_by(Channel.created_at)
    )
    return (await session.execute(stmt)).scalars().all()


async def get_channel(
    session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID
) -> Channel:
    """A connected channel of the account (a disconnected one is not found)."""
    stmt = for_account(select(Channel), Channel, account_id).where(
        Channel.id == channel_id, Channel.active.is_(True)
    )
    channel = (await session.execute(stmt)).scalar_one_or_none()
    if channel is None:
        raise ChannelNotFound("no such channel")
    return channel


async def disconnect(session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID) -> None:
    """Stop receiving and sending on this number; its conversations stay (nothing is lost).

    Webhooks for it are refused from now on and its credentials are forgotten.
    """
    channel = await get_channel(session, account_id, channel_id)
    channel.active, channel.state, channel.api_token = False, "disconnected", ""
    channel.verify_token = ""


async def set_receive_mode(
    session: AsyncSession, account_id: uuid.UUID, channel_id: uuid.UUID, mode: ReceiveMode
) -> Channel:
    """Webhook or polling for a Green API channel; the worker's poller picks the change up
    within POLL_SCAN_SECONDS (docs/decisions.md, 26)."""
    channel = await get_channel(session, account_id, channel_id)
    if channel.type != "green_api":
        raise NoReceiveMode(
            f"a {channel.type} channel has no receive mode to choose", field="receive_mode"
        )
    channel.receive_mode = mode
    return channel


async def list_polling_channels(session: AsyncSession) -> Sequence[Channel]:
    """Every account's connected Green API channels that are pulled, for the worker's poller:
    not tenant-scoped, as webhook routing is not."""
    stmt = (
        select(Channel)
        .where(
            Channel.type == "green_api",
            Channel.active.is_(True),
            Channel.receive_mode == ReceiveMode.POLLING,
        )
        .order_by(Channel.created_at)
    )
    return (await session.execute(stmt)).scalars().all()


async def list_green_api_channels(session: AsyncSession) -> Sequence[Channel]:
    """Every account's connected Green API channels (the start-up backfill's list)."""
    stmt = select(Channel).where(Channel.type == "green_api", Channel.active.is_(True))
    return (await session.execute(stmt)).scalars().all()
