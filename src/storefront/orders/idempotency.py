"""`Idempotency-Key`: a retried request gets the first answer, and creates nothing.

The first request with a key is processed and its (successful) response
stored for 24 hours per user, in the same transaction as the change. A repeat
with the same body gets that response again with `Idempotent-Replayed: true`;
a different body is 422 `idempotency_key_reused`; a repeat while the first is
still being processed is 409 `idempotency_key_in_use`. A failed request
stores nothing (its transaction rolls back), so it may be retried with its key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth.dependencies import CurrentUser
from storefront.context import SessionDep
from storefront.db import utcnow
from storefront.errors import Conflict, Unprocessable
from storefront.models import IdempotencyRecord

TTL = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
# Keys being processed by this process; PostgreSQL advisory locks cover the others.
_in_flight: set[tuple[int, str]] = set()


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"

    def default_detail(self) -> str:
        return "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"

    def default_detail(self) -> str:
        return "This Idempotency-Key was used with a different request body."


class Idempotency:
    def __init__(self, session: AsyncSession, user_id: int, key: str, request_hash: str) -> None:
        self.session = session
        self.user_id = user_id
        self.key = key
        self.request_hash = request_hash

    async def replay(self) -> Response | None:
        """The stored response for this key, or None when the request is new."""
        record = await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == self.user_id, IdempotencyRecord.key == self.key
            )
        )
        if record is None:
            return None
        if record.expires_at <= utcnow():
            await self.session.delete(record)
            await self.session.flush()
            return None
        if record.request_hash != self.request_hash:
            raise IdempotencyKeyReused()
        headers = {REPLAYED_HEADER: "true"}
        if record.location:
            headers["Location"] = record.location
        return Response(record.response_body, record.response_status, headers, media_type="application/json")

    async def store(self, status: int, body: BaseModel, *, location: str | None = None) -> None:
        now = utcnow()
        self.session.add(
            IdempotencyRecord(
                user_id=self.user_id,
                key=self.key,
                request_hash=self.request_hash,
                response_status=status,
                response_body=body.model_dump_json(),
                location=location,
                created_at=now,
                expires_at=now + TTL,
            )
        )
        await self.session.flush()


def _request_hash(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("latin-1")
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


def _lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _idempotency(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Makes retries safe: the same key and body replay the first response.",
        ),
    ] = None,
) -> AsyncIterator[Idempotency | None]:
    if key is None:
        yield None
        return
    guard = (user.id, key)
    if guard in _in_flight:
        raise IdempotencyKeyInUse()
    _in_flight.add(guard)
    try:
        if session.get_bind().dialect.name == "postgresql":
            # Held until this transaction ends: another process with the same
            # key answers 409 instead of waiting and racing.
            locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _lock_id(*guard)})
            if not locked:
                raise IdempotencyKeyInUse()
        yield Idempotency(session, user.id, key, _request_hash(request, await request.body()))
    finally:
        _in_flight.discard(guard)


IdempotencyDep = Annotated[Idempotency | None, Depends(_idempotency, scope="function")]
