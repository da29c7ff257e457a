"""What WebSocket and SSE streams share: who is listening, and what they get.

A stream never holds a database session open: authentication and replay use
short sessions, and live events arrive through the broker.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator

from starlette.requests import HTTPConnection

from storefront.auth.dependencies import user_for_access_token
from storefront.auth.tokens import read_access_token
from storefront.db import Database
from storefront.errors import AppError
from storefront.events import service
from storefront.events.broker import LocalBroker
from storefront.events.schemas import EventRead
from storefront.models import User


class TooManyStreams(AppError):
    status_code = 429
    code = "too_many_streams"

    def default_detail(self) -> str:
        return "Too many open event streams for this account; close one first."


async def stream_user(connection: HTTPConnection) -> User | None:
    """The user behind a bearer header or a single-use `?ticket=`, or None."""
    database: Database = connection.app.state.database
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        claims = read_access_token(database.settings, token)
        if claims is None:
            return None
        async with database.read_session() as session:
            # The same check as every API request: a logged-out session cannot open a stream.
            return await user_for_access_token(session, claims)
    ticket = connection.query_params.get("ticket")
    if ticket:
        async with database.transaction() as session:
            user_id = await service.redeem_ticket(session, ticket)
            user = await session.get(User, user_id) if user_id is not None else None
        return user if user is not None and user.is_active else None
    return None


class StreamCounter:
    """Open streams per user in this process, capped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[int] = Counter()

    def acquire(self, user_id: int) -> bool:
        if self.open[user_id] >= self.limit:
            return False
        self.open[user_id] += 1
        return True

    def release(self, user_id: int) -> None:
        self.open[user_id] -= 1
        if self.open[user_id] <= 0:
            del self.open[user_id]

    @contextlib.contextmanager
    def hold(self, user_id: int) -> Iterator[None]:
        if not self.acquire(user_id):
            raise TooManyStreams()
        try:
            yield
        finally:
            self.release(user_id)

    @property
    def total(self) -> int:
        return sum(self.open.values())


async def events_for(database: Database, user: User, since: int | None) -> AsyncIterator[EventRead]:
    """Missed events after `since` (from the log), then live ones, as `user` may see them.

    The subscription starts before the replay query, so an event committed in
    between is seen once (duplicates are skipped by id).
    """
    broker: LocalBroker = database.broker
    with broker.subscribe() as subscription:
        replayed: set[int] = set()
        if since is not None:
            async with database.read_session() as session:
                for event in await service.missed(session, user, since):
                    replayed.add(event.id)
                    yield event.public()
        async for event in subscription:
            if event.id not in replayed and service.may_see(user, event):
                yield event.public()
