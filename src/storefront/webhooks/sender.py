"""Sending webhook deliveries: the worker's part.

Each pass leases what is due, at most `WEBHOOK_CONCURRENCY_PER_ENDPOINT`
deliveries per endpoint and `WEBHOOK_CONCURRENCY` in all per worker process,
and sends each as a task of its own: a slow or dead endpoint holds its own
slots and nothing else. A lease (PostgreSQL: rows taken `FOR UPDATE SKIP
LOCKED`; SQLite: one writer at a time) outlives the longest attempt, so two
workers never send the same attempt; a worker killed mid-attempt leaves a
lease that expires, and the next pass of any worker sends it again with the
same `webhook-id` (at least once).

An attempt checks the URL again against the addresses its host resolves to
now and connects to a checked address (no DNS rebinding), follows no
redirect, reads at most `RESPONSE_EXCERPT` bytes of the answer and must see a
2xx within `WEBHOOK_TIMEOUT_SECONDS`. Its outcome is recorded only while its
lease is held. A failure is retried after `WEBHOOK_RETRY_BASE_SECONDS`, 4
times longer each time (at most 6 h, +-25% jitter), until
`WEBHOOK_MAX_ATTEMPTS`; `WEBHOOK_DISABLE_AFTER` failed attempts in a row
disable the endpoint and email the admins.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update

from storefront import metrics
from storefront.config import Settings
from storefront.database import Database
from storefront.db import utcnow
from storefront.kit.net import Resolver, UnsafeURL, check_url
from storefront.kit.secretbox import SealedWithAnotherKey
from storefront.log import get_logger
from storefront.models import DeliveryStatus, Role, User, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storefront.models.webhook import ERROR_LENGTH, EXCERPT_LENGTH
from storefront.uow import UnitOfWork
from storefront.webhooks import secrets

log = get_logger("storefront.webhooks")

RESPONSE_EXCERPT = EXCERPT_LENGTH  # bytes of an answer read, and kept with the attempt
LEASE_MARGIN_SECONDS = 5.0  # a lease outlives the attempt's timeout by this much
MAX_BACKOFF_SECONDS = 6 * 3600.0
ENDPOINTS_PER_PASS = 50
USER_AGENT = "Storefront-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery and what sending it needs."""

    id: int
    message_id: str
    payload: str
    attempt: int  # this attempt's number, from 1
    endpoint_id: int
    url: str
    secrets: list[str]  # opened; never logged


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def due(now: datetime) -> ColumnElement[bool]:
    """Pending, its time come, and held by no worker (or by one whose lease ran out)."""
    return and_(
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at < now),
    )


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 1x, 4x, 16x... the base, jittered."""
    delay = min(base * 4.0 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter spreads retries, no secret


class WebhookSender:
    def __init__(self, database: Database, settings: Settings, owner: str, resolver: Resolver) -> None:
        self.database = database
        self.settings = settings
        self.owner = owner  # the lease owner: the worker's id
        self.resolver = resolver
        self.box = secrets.box(settings.signing_key())
        cap = settings.webhook_concurrency
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the checked address is the one connected to
            timeout=httpx.Timeout(settings.webhook_timeout_seconds),
            limits=httpx.Limits(max_connections=cap, max_keepalive_connections=cap),
        )
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._per_endpoint: Counter[int] = Counter()
        self.on_done: list[asyncio.Event] = []  # set when an attempt ends: its slot is free again

    @property
    def lease_seconds(self) -> float:
        return self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def run_once(self) -> int:
        """Lease what is due, up to the free slots, and start sending it; how many were started.
        The attempts run on as tasks: this does not wait for them."""
        free = self.settings.webhook_concurrency - len(self._tasks)
        if free <= 0:
            return 0
        claimed = await self.claim(free)
        for delivery in claimed:
            self._per_endpoint[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._attempt(delivery), name=f"webhook-delivery-{delivery.id}")
            self._tasks[delivery.id] = task
        return len(claimed)

    async def claim(self, free: int) -> list[Claimed]:
        now = utcnow()
        busy = [endpoint for endpoint, count in self._per_endpoint.items() if count >= self._per_endpoint_cap]
        endpoints_due = (
            select(WebhookDelivery.endpoint_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(due(now), WebhookEndpoint.active, WebhookDelivery.endpoint_id.not_in(busy))
            .distinct()
            .limit(ENDPOINTS_PER_PASS)
        )
        # A look first without the write lock: most passes find nothing.
        async with self.database.read_session() as session:
            endpoint_ids = list(await session.scalars(endpoints_due))
        if not endpoint_ids:
            return []
        ids: list[int] = []
        async with self.database.transaction() as uow:
            postgres = uow.get_bind().dialect.name == "postgresql"
            for endpoint_id in endpoint_ids:
                slots = min(self._per_endpoint_cap - self._per_endpoint[endpoint_id], free - len(ids))
                if slots <= 0:
                    continue
                query = (
                    select(WebhookDelivery.id)
                    .where(due(now), WebhookDelivery.endpoint_id == endpoint_id)
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(slots)
                )
                ids.extend(await uow.scalars(query.with_for_update(skip_locked=True) if postgres else query))
            if not ids:
                return []
            await uow.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(
                    lease_owner=self.owner,
                    lease_expires_at=now + timedelta(seconds=self.lease_seconds),
                    attempts=WebhookDelivery.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            rows = (
                await uow.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.id.in_(ids))
                    .order_by(WebhookDelivery.id)
                )
            ).all()
            return [self._claimed(delivery, endpoint, now) for delivery, endpoint in rows]

    @property
    def _per_endpoint_cap(self) -> int:
        return self.settings.webhook_concurrency_per_endpoint

    def _claimed(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> Claimed:
        # No readable current secret (SECRET_KEY changed): no signature, and the
        # attempt fails saying why, while the other deliveries go on.
        signing = [secret for secret in [self._open(endpoint.secret)] if secret is not None]
        expires = endpoint.previous_secret_expires_at
        overlapping = endpoint.previous_secret is not None and expires is not None and expires > now
        if signing and overlapping and (previous := self._open(endpoint.previous_secret or "")) is not None:
            signing.append(previous)
        return Claimed(
            id=delivery.id,
            message_id=delivery.message_id,
            payload=delivery.payload,
            attempt=delivery.attempts,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secrets=signing,
        )

    def _open(self, sealed: str) -> str | None:
        try:
            return self.box.open(sealed)
        except SealedWithAnotherKey:
            return None

    async def _attempt(self, delivery: Claimed) -> None:
        started = time.perf_counter()
        try:
            outcome = await self.send(delivery)
            duration_ms = round((time.perf_counter() - started) * 1000)
            await self._record(delivery, outcome, duration_ms)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook_attempt_failed", delivery_id=delivery.id)
        finally:
            self._tasks.pop(delivery.id, None)
            self._per_endpoint[delivery.endpoint_id] -= 1
            if self._per_endpoint[delivery.endpoint_id] <= 0:
                del self._per_endpoint[delivery.endpoint_id]
            for event in self.on_done:
                event.set()

    async def send(self, delivery: Claimed) -> Outcome:
        """One POST of the delivery, signed; never raises for what the endpoint or the network does."""
        if not delivery.secrets:
            return Outcome(error="the signing secret cannot be read (SECRET_KEY changed): rotate the secret")
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                target = await check_url(delivery.url, self.resolver, allow_private=self.settings.webhook_allow_private)
                url, headers, extensions = target.pinned()
                now = utcnow()
                headers |= {
                    "content-type": "application/json",
                    "user-agent": USER_AGENT,
                    "webhook-id": delivery.message_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": secrets.signature(
                        delivery.secrets, delivery.message_id, now, delivery.payload
                    ),
                }
                body = delivery.payload.encode()
                async with self.client.stream(
                    "POST", url, content=body, headers=headers, extensions=extensions
                ) as response:
                    excerpt = await _read_capped(response, RESPONSE_EXCERPT)
        except UnsafeURL as exc:
            return Outcome(error=f"unsafe_url: {exc}")
        except TimeoutError:
            return Outcome(error=f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 300 <= status < 400:
            where = response.headers.get("location", "")[:200]
            return Outcome(status, f"HTTP {status}: redirects are not followed ({where})", excerpt)
        if not 200 <= status < 300:
            return Outcome(status, f"HTTP {status}", excerpt)
        return Outcome(status, None, excerpt)

    async def _record(self, delivery: Claimed, outcome: Outcome, duration_ms: int) -> None:
        now = utcnow()
        error = outcome.error[:ERROR_LENGTH] if outcome.error is not None else None
        if outcome.delivered:
            values: dict[str, object] = {"status": DeliveryStatus.delivered, "delivered_at": now}
            result = "delivered"
        elif delivery.attempt >= self.settings.webhook_max_attempts:
            values, result = {"status": DeliveryStatus.failed}, "failed"
        else:
            delay = backoff(delivery.attempt, self.settings.webhook_retry_base_seconds)
            values, result = {"next_attempt_at": now + timedelta(seconds=delay)}, "retrying"
        async with self.database.transaction() as uow:
            # Only while the lease is ours: if it expired, or an admin asked for
            # a retry, the attempt that holds it now is the one that counts.
            kept = await uow.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id, WebhookDelivery.lease_owner == self.owner)
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    last_status_code=outcome.status_code,
                    last_error=error,
                    duration_ms=duration_ms,
                    **values,
                )
                .execution_options(synchronize_session=False)
            )
            if not kept.rowcount:  # type: ignore[attr-defined]
                result = "superseded"
            else:
                await uow.execute(
                    insert(WebhookAttempt).values(
                        delivery_id=delivery.id,
                        number=delivery.attempt,
                        status_code=outcome.status_code,
                        error=error,
                        response_excerpt=outcome.excerpt,
                        duration_ms=duration_ms,
                        created_at=now,
                    )
                )
                await self._count_for_endpoint(uow, delivery.endpoint_id, outcome)
        metrics.WEBHOOK_DELIVERIES.labels(result).inc()
        metrics.WEBHOOK_DURATION.observe(duration_ms / 1000)
        log.info(
            "webhook_attempt",
            delivery_id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            attempt=delivery.attempt,
            result=result,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=duration_ms,
        )

    async def _count_for_endpoint(self, uow: UnitOfWork, endpoint_id: int, outcome: Outcome) -> None:
        """Failures in a row, counted atomically; the one that reaches the limit disables the endpoint once."""
        if outcome.delivered:
            await uow.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.consecutive_failures != 0)
                .values(consecutive_failures=0)
            )
            return
        failures = await uow.scalar(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
            .returning(WebhookEndpoint.consecutive_failures)
        )
        limit = self.settings.webhook_disable_after
        if failures is None or failures < limit:
            return
        reason = f"{failures} failed attempts in a row; the last: {outcome.error}"[:500]
        disabled = await uow.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.active)
            .values(active=False, disabled_reason=reason, updated_at=utcnow())
        )
        if disabled.rowcount:  # type: ignore[attr-defined]
            await _tell_admins(uow, endpoint_id, reason)
            log.warning("webhook_endpoint_disabled", endpoint_id=endpoint_id, failures=failures)

    async def stop(self, grace: float) -> None:
        """Let the attempts in flight end (bounded), give back what is still held, close the client."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks.values()), timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.release_held()
        await self.client.aclose()

    async def release_held(self) -> None:
        """Deliveries leased here and not finished go back, due now; the interrupted attempt does not count."""
        async with self.database.transaction() as uow:
            await uow.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.lease_owner == self.owner)
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=WebhookDelivery.attempts - 1,
                    next_attempt_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )


async def _read_capped(response: httpx.Response, cap: int) -> str:
    """The start of the body, at most `cap` bytes as sent (no decompression: no zip bomb)."""
    read = b""
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= cap:
            break
    return read[:cap].decode("utf-8", errors="replace")


async def _tell_admins(uow: UnitOfWork, endpoint_id: int, reason: str) -> None:
    endpoint = await uow.get(WebhookEndpoint, endpoint_id)
    admins = await uow.scalars(select(User).where(User.role == Role.admin, User.is_active).order_by(User.id))
    context = {"endpoint": {"id": endpoint_id, "url": endpoint.url if endpoint else ""}, "reason": reason}
    for admin in admins:
        await uow.queue_email("webhook_disabled", to=admin.email, context=context)


async def backlog(database: Database) -> dict[str, int]:
    """Deliveries by state, and of the pending ones those due now (for `worker --status` and metrics)."""
    now = utcnow()
    async with database.read_session() as session:
        rows = (
            await session.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status))
        ).all()
        due_now = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(due(now)))
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({str(status): int(count) for status, count in rows})
    counts["due"] = int(due_now or 0)
    return counts
