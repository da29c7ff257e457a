"""The job worker: delivers queued emails and webhooks, cancels orders left unpaid, and keeps the outbox tidy.

Delivery is at least once. A worker leases a batch of due emails (PostgreSQL:
`FOR UPDATE SKIP LOCKED`, so workers never take the same row; SQLite: one
writer at a time), sends them, and records the outcome only while it still
holds the lease. A failure is retried with exponential backoff and ends
`failed` with the reason after the last attempt. A worker that dies mid-flight
leaves leases that expire, and another worker takes those emails again. On
stop, a worker finishes what it holds (bounded) and releases the rest.

Webhook deliveries are leased the same way by `webhooks.sender`, each sent
as a task of its own so that a slow endpoint holds up nothing else.

Every minute it also cancels the orders whose payment is overdue
(`orders.expiry`), each claimed by one worker however many run.

It runs inside `storefront serve` by default and as `storefront worker` for
scale-out; any number of each may run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from storefront import retention
from storefront.config import Settings
from storefront.context import JobSignal
from storefront.database import Database
from storefront.db import utcnow
from storefront.kit.net import Resolver, system_resolver
from storefront.log import get_logger
from storefront.models import Email, EmailStatus
from storefront.notifications.mailer import Mailer, build_message, mailer_from_settings
from storefront.orders import expiry
from storefront.webhooks.sender import WebhookSender

log = get_logger("storefront.worker")
MAX_BACKOFF_SECONDS = 3600.0
MAINTENANCE_SECONDS = 3600.0
EXPIRY_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
# Emails whose body holds a secret (a reset token): once delivered, the outbox
# keeps no copy of it.
SECRET_KINDS = frozenset({"password_reset"})
SCRUBBED = {"body_text": "(removed after delivery: it held a single-use token)", "body_html": None}


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        jobs: JobSignal,
        mailer: Mailer | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.mailer = mailer or mailer_from_settings(settings)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Set by every unit of work that queued an email or a webhook delivery in
        # this process, and by each webhook attempt that ends (its slot is free).
        self._wake = jobs.event
        self.webhooks = WebhookSender(database, settings, self.id, resolver or system_resolver)
        self.webhooks.on_done.append(self._wake)
        self._stopping = asyncio.Event()
        self._held: set[int] = set()
        self._next_maintenance = 0.0
        self._next_expiry = 0.0

    def notify(self) -> None:
        """New work was committed: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        log.info("worker_started", worker=self.id)
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            # Cleared before looking, so work committed while we look wakes the next wait.
            self._wake.clear()
            try:
                delivered = await self.run_once()
                delivered += await self.webhooks.run_once()
                if loop.time() >= self._next_expiry:
                    await self.cancel_unpaid()
                    self._next_expiry = loop.time() + EXPIRY_SECONDS
                if loop.time() >= self._next_maintenance:
                    await self.maintain()
                    self._next_maintenance = loop.time() + MAINTENANCE_SECONDS
            except Exception:
                log.exception("worker_cycle_failed", worker=self.id)
                delivered = 0
            if not delivered:
                await self._idle()
        log.info("worker_stopped", worker=self.id)

    async def _idle(self) -> None:
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._stopping.wait())]
        await asyncio.wait(waits, timeout=self.settings.worker_poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waits:
            waiter.cancel()

    async def stop(self, task: asyncio.Task[None] | None = None) -> None:
        """Stop taking work; let the current batch finish (bounded), release the rest."""
        self._stopping.set()
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.release_held()
        await self.webhooks.stop(STOP_GRACE_SECONDS)

    async def run_once(self) -> int:
        """Lease and deliver one batch of due emails; how many were taken."""
        emails = await self.claim()
        if emails:
            await asyncio.gather(*(self.deliver(email) for email in emails))
        return len(emails)

    async def claim(self) -> list[Email]:
        now = utcnow()
        due = or_(
            and_(Email.status == EmailStatus.queued, Email.next_attempt_at <= now),
            and_(Email.status == EmailStatus.sending, Email.lease_expires_at < now),  # its worker died
        )
        query = select(Email.id).where(due).order_by(Email.id).limit(self.settings.worker_batch_size)
        async with self.database.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(await session.scalars(query))
            if not ids:
                return []
            await session.execute(
                update(Email)
                .where(Email.id.in_(ids))
                .values(
                    status=EmailStatus.sending,
                    lease_owner=self.id,
                    lease_expires_at=now + timedelta(seconds=self.settings.worker_lease_seconds),
                    attempts=Email.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            emails = list(await session.scalars(select(Email).where(Email.id.in_(ids)).order_by(Email.id)))
        self._held.update(ids)
        return emails

    async def deliver(self, email: Email) -> None:
        try:
            message = build_message(email, self.settings.mail_from)
            await asyncio.wait_for(self.mailer.send(message), self.settings.smtp_timeout_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(email, f"{type(exc).__name__}: {exc}"[:1000])
        else:
            scrub = SCRUBBED if email.kind in SECRET_KINDS else {}
            await self._finish(email, status=EmailStatus.sent, sent_at=utcnow(), last_error=None, **scrub)
            log.info("email_sent", email_id=email.id, kind=email.kind, attempts=email.attempts)
        finally:
            self._held.discard(email.id)

    async def _failed(self, email: Email, reason: str) -> None:
        if email.attempts >= self.settings.email_max_attempts:
            scrub = SCRUBBED if email.kind in SECRET_KINDS else {}
            await self._finish(email, status=EmailStatus.failed, last_error=reason, **scrub)
            log.error("email_failed", email_id=email.id, attempts=email.attempts, error=reason)
            return
        delay = min(self.settings.email_retry_base_seconds * 2 ** (email.attempts - 1), MAX_BACKOFF_SECONDS)
        delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter spreads retries, no secret
        await self._finish(
            email, status=EmailStatus.queued, last_error=reason, next_attempt_at=utcnow() + timedelta(seconds=delay)
        )
        log.warning("email_retry", email_id=email.id, attempts=email.attempts, retry_in_s=round(delay, 1), error=reason)

    async def _finish(self, email: Email, **values: object) -> None:
        # Only while we still hold the lease: if it expired and another worker
        # took the email, that worker's outcome is the one that counts.
        async with self.database.transaction() as session:
            await session.execute(
                update(Email)
                .where(Email.id == email.id, Email.lease_owner == self.id, Email.status == EmailStatus.sending)
                .values(lease_owner=None, lease_expires_at=None, **values)
                .execution_options(synchronize_session=False)
            )

    async def release_held(self) -> None:
        """Give back leased emails that were not finished, for another worker."""
        async with self.database.transaction() as session:
            await session.execute(
                update(Email)
                .where(Email.lease_owner == self.id, Email.status == EmailStatus.sending)
                .values(
                    status=EmailStatus.queued,
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=Email.attempts - 1,  # the interrupted attempt does not count
                    next_attempt_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
        self._held.clear()

    async def cancel_unpaid(self) -> list[int]:
        """Cancel the orders whose payment is overdue (one batch); the ids this worker cancelled."""
        return await expiry.cancel_unpaid(self.database)

    async def maintain(self) -> dict[str, int]:
        """Prune what has served its purpose, by every domain's retention rules."""
        async with self.database.transaction() as session:
            pruned = await retention.prune(
                session, self.settings.retention_days, cart_ttl_days=self.settings.cart_ttl_days
            )
        log.info("outbox_pruned", **pruned)
        return pruned


async def queue_status(database: Database) -> dict[str, int]:
    """How many emails are in each state (for `storefront worker --status` and metrics)."""
    async with database.read_session() as session:
        rows = (await session.execute(select(Email.status, func.count()).group_by(Email.status))).all()
    counts = {status.value: 0 for status in EmailStatus}
    counts.update({str(status): int(count) for status, count in rows})
    return counts
