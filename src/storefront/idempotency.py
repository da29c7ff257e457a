"""`Idempotency-Key` for any write route: a retry gets the first answer, and changes nothing.

A route takes `IdempotencyDep` and makes its change through `run(user, change)`.
The first request with a key makes the change, and the answer its route declares
(`status_code`, the `response_model` body, `Location`) is stored for 24 hours
per user, in the same transaction as the change. A repeat with the same body
gets that answer again with `Idempotent-Replayed: true`; a different body is 422
`idempotency_key_reused`. A failed request stores nothing (its transaction rolls
back), so it may be retried with its key.

A repeat while the first is still being processed is told apart by the database
alone, whichever process it reaches: on PostgreSQL a transaction-scoped advisory
lock on (user, key) answers it 409 `idempotency_key_in_use` at once; on SQLite
write transactions take the one write lock up front, so it waits for the first
to commit and then replays. Should two ever pass the lookup together, the unique
(user, key) row decides: the second answers 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.context import WriteSession
from storefront.db import utcnow
from storefront.errors import Conflict, Unprocessable
from storefront.kit.retention import Rule
from storefront.models import IdempotencyRecord, User

TTL = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
RULES = (Rule("idempotency_keys", lambda h: delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= h.now)),)
T = TypeVar("T")


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"

    def default_detail(self) -> str:
        return "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"

    def default_detail(self) -> str:
        return "This Idempotency-Key was used with a different request body."


class Idempotency:
    """The `Idempotency-Key` a write request sent, if any, and the answer its route declares."""

    def __init__(
        self,
        request: Request,
        session: AsyncSession,
        response: Response,
        key: str | None,
        answer: tuple[int, type[BaseModel]],
    ) -> None:
        self.request = request
        self.session = session
        self.response = response
        self.key = key
        self.status_code, self.schema = answer

    async def run(
        self, user: User, change: Callable[[], Awaitable[T]], *, location: Callable[[T], str] | None = None
    ) -> T | Response:
        """What `change()` returns, made at most once per `user` and key; a repeat gets the stored answer.

        `location` names what the change made: the `Location` header, stored with the answer.
        """
        if self.key is None:
            return await self._make(change, location)
        request_hash = _request_hash(self.request, await self.request.body())
        await self._claim(user.id, self.key)
        if (replay := await self._replay(user.id, self.key, request_hash)) is not None:
            return replay
        result = await self._make(change, location)
        await self._store(user.id, self.key, request_hash, result)
        return result

    async def _make(self, change: Callable[[], Awaitable[T]], location: Callable[[T], str] | None) -> T:
        result = await change()
        if location is not None:
            self.response.headers["Location"] = location(result)
        return result

    async def _claim(self, user_id: int, key: str) -> None:
        if self.session.get_bind().dialect.name != "postgresql":
            return  # SQLite's one writer already runs the two one after the other
        # Held until this transaction ends: a second request with the key,
        # in any process, answers 409 instead of waiting and racing.
        lock = await self.session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _lock_id(user_id, key)})
        if not lock:
            raise IdempotencyKeyInUse()

    async def _replay(self, user_id: int, key: str, request_hash: str) -> Response | None:
        """The stored answer for the key, or None when the request is new (or its key expired)."""
        record = await self.session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        )
        if record is None:
            return None
        if record.expires_at <= utcnow():
            await self.session.delete(record)
            await self.session.flush()
            return None
        if record.request_hash != request_hash:
            raise IdempotencyKeyReused()
        headers = {REPLAYED_HEADER: "true"}
        if record.location:
            headers["Location"] = record.location
        return Response(record.response_body, record.response_status, headers, media_type="application/json")

    async def _store(self, user_id: int, key: str, request_hash: str, result: object) -> None:
        await self.session.flush()  # the change's own errors surface as themselves, not as below
        now = utcnow()
        self.session.add(
            IdempotencyRecord(
                user_id=user_id,
                key=key,
                request_hash=request_hash,
                response_status=self.status_code,
                response_body=self.schema.model_validate(result).model_dump_json(),
                location=self.response.headers.get("Location"),
                created_at=now,
                expires_at=now + TTL,
            )
        )
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise IdempotencyKeyInUse() from exc


def _answer(route: object) -> tuple[int, type[BaseModel]]:
    """The status and body model `route` declares: what a replay repeats."""
    if isinstance(route, APIRoute):
        model = route.response_model
        if isinstance(model, type) and issubclass(model, BaseModel):
            return route.status_code or 200, model
    raise TypeError(f"an idempotent route declares a Pydantic response_model: {route!r}")


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
    session: WriteSession,
    response: Response,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Makes retries safe: the same key and body replay the first response.",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(request, session, response, key, _answer(request.scope.get("route")))


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
