"""Recording events (in the caller's transaction) and reading the log back."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth import repository as auth_repository
from storefront.db import utcnow
from storefront.messages import PublishedEvent
from storefront.models import Audience, Event, StreamTicket, User

TICKET_SECONDS = 60
REPLAY_LIMIT = 1000


def _grants(user: User) -> list[tuple[Audience, bool]]:
    """The one visibility rule: the audiences `user` may see, each with whether
    only events naming `user` count. Customers see public events and their own;
    staff and admins see every event."""
    if user.is_staff:
        return [(audience, False) for audience in Audience]
    return [(Audience.public, False), (Audience.owner, True)]


def may_see(user: User, event: PublishedEvent) -> bool:
    """The rule asked of a live event."""
    return any(event.audience == audience and (not own or event.user_id == user.id) for audience, own in _grants(user))


def readable_by(user: User) -> ColumnElement[bool]:
    """The rule asked of the log, in SQL."""
    return or_(
        *((Event.audience == audience) & (Event.user_id == user.id) if own else Event.audience == audience
          for audience, own in _grants(user))
    )  # fmt: skip


async def missed(session: AsyncSession, user: User, since: int) -> list[PublishedEvent]:
    """Events after `since` that `user` may see, oldest first (at most REPLAY_LIMIT)."""
    query = select(Event).where(Event.id > since, readable_by(user)).order_by(Event.id).limit(REPLAY_LIMIT)
    return [PublishedEvent.model_validate(event) for event in await session.scalars(query)]


async def issue_ticket(session: AsyncSession, user: User, session_id: int) -> tuple[str, int]:
    """A ticket of `user`'s login session `session_id`: the stream it opens ends with that session."""
    ticket = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=TICKET_SECONDS)
    session.add(StreamTicket(ticket_hash=_hash(ticket), user_id=user.id, session_id=session_id, expires_at=expires_at))
    await session.flush()
    return ticket, TICKET_SECONDS


async def redeem_ticket(session: AsyncSession, ticket: str) -> tuple[int, int] | None:
    """The user and session ids of a valid, unused ticket, which is used up; else None."""
    now = utcnow()
    result = await session.execute(
        update(StreamTicket)
        .where(StreamTicket.ticket_hash == _hash(ticket), StreamTicket.used_at.is_(None), StreamTicket.expires_at > now)
        .values(used_at=now)
        .returning(StreamTicket.user_id, StreamTicket.session_id)
    )
    row = result.first()
    if row is None or row[1] is None:  # no session named: older than migration 0005
        return None
    return row[0], row[1]


async def stream_owner(session: AsyncSession, user_id: int, session_id: int) -> User | None:
    """The user, if active and `session_id` is still one of their live sessions."""
    user = await auth_repository.user_of_session(session, user_id, session_id)
    return user if user is not None and user.is_active else None


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()
