"""What WebSocket and SSE streams share: who is listening, how many may, and
what they get.

A stream never holds a database session open: authentication and replay use
short sessions, and live events arrive through the broker. A stream belongs to
the login session it was opened with and ends when that session does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from storefront.auth.dependencies import user_for_access_token
from storefront.auth.tokens import read_access_token
from storefront.context import AppContext, app_context
from storefront.events import service
from storefront.events.schemas import EventRead
from storefront.models import User


class SessionEnded(Exception):
    """The login session behind a stream ended (logout, password change, deactivation)."""


@dataclass(frozen=True, slots=True)
class Listener:
    """Who a stream is for, and the login session it belongs to."""

    user: User
    session_id: int


async def stream_listener(connection: HTTPConnection) -> Listener | None:
    """The listener behind a bearer header or a single-use `?ticket=`, or None.

    API keys open no stream: a stream must end with a session.
    """
    database = app_context(connection).database
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        claims = read_access_token(database.settings, token)
        if claims is None:
            return None
        async with database.read_session() as session:
            # The same check as every API request: a logged-out session cannot open a stream.
            user = await user_for_access_token(session, claims)
        return Listener(user, claims.session_id) if user is not None else None
    ticket = connection.query_params.get("ticket")
    if ticket:
        async with database.transaction() as session:
            redeemed = await service.redeem_ticket(session, ticket)
            if redeemed is None:
                return None
            user_id, session_id = redeemed
            user = await service.stream_owner(session, user_id, session_id)
        return Listener(user, session_id) if user is not None else None
    return None


def client_address(connection: HTTPConnection) -> str:
    """The client's address (the proxy's forwarded one when the proxy is trusted)."""
    return connection.client.host if connection.client is not None else "unknown"


async def events_for(context: AppContext, listener: Listener, since: int | None) -> AsyncIterator[EventRead]:
    """Missed events after `since` (from the log), then live ones, as the listener may see them.

    The subscription starts before the replay query, so an event committed in
    between is seen once (duplicates are skipped by id), and before the session
    is checked once more, so a logout committed since the stream authenticated
    is not missed. Raises SessionEnded when the listener's session ends.
    """
    broker, database = context.broker, context.database
    user = listener.user
    with broker.subscribe(user.id, listener.session_id) as subscription:
        replayed: set[int] = set()
        async with database.read_session() as session:
            if await service.stream_owner(session, user.id, listener.session_id) is None:
                raise SessionEnded()
            missed = await service.missed(session, user, since) if since is not None else []
        for event in missed:
            replayed.add(event.id)
            yield event.public()
        async for event in subscription:
            if event.id not in replayed and service.may_see(user, event):
                yield event.public()
        if subscription.session_ended:
            raise SessionEnded()
