"""The unit of work: one transaction, and what it causes once it commits.

A service asks for the side effects of its change explicitly, on the unit of
work it was given: `record_event`, `queue_email`, `evict`, `end_sessions`.
The rows (events, emails, and for each event one webhook delivery per
subscribed endpoint) are written in the same transaction; what must
reach other parts of the system (live streams, the product cache in every
process, the job worker) is held until `commit()` succeeds, then dispatched
once through the app's `Effects`. A rollback discards it. Requests, CLI
commands and the worker all commit this one way.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storefront.config import Settings
from storefront.db import utcnow
from storefront.log import get_logger
from storefront.mail.templates import render
from storefront.messages import ProductsChanged, SessionsEnded
from storefront.models import (
    Audience,
    AuditEntry,
    DeliveryStatus,
    Email,
    EmailStatus,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
)
from storefront.trail import AuditTrail

log = get_logger("storefront.uow")

AfterCommit = Callable[[], Awaitable[None] | None]


@dataclass
class Pending:
    """What a committed transaction still has to make known."""

    events: list[Event] = field(default_factory=list)  # written at commit, which gives them their ids
    ended_sessions: list[SessionsEnded] = field(default_factory=list)
    changed_products: set[int] = field(default_factory=set)
    jobs_queued: bool = False
    callbacks: list[AfterCommit] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.ended_sessions or self.changed_products or self.jobs_queued or self.callbacks)

    @property
    def products(self) -> ProductsChanged | None:
        return ProductsChanged(product_ids=tuple(sorted(self.changed_products))) if self.changed_products else None


class Effects(Protocol):
    """Where committed effects go: the broker, the worker's wake-up (`AppContext` builds it)."""

    async def dispatch(self, pending: Pending) -> None: ...


class ReadOnly(Session):
    """The session behind `Database.read_session` and `snapshot_session`. No
    transaction wraps a read session's statements, so a write through it would
    commit on its own, half a change: both refuse to write instead (a
    programming error: the route should have declared `WriteSession`)."""


class WriteInReadSession(RuntimeError):
    pass


class Audited(Session):
    """The session behind writing units of work: when it acts for staff or an
    admin (`UnitOfWork.audit_as`), each flush notes what it changes (`trail`)."""

    trail: AuditTrail | None = None


@event.listens_for(Audited, "before_flush")
def _note_changes(session: Audited, _flush: UOWTransaction, _instances: object) -> None:
    if session.trail is not None:
        session.trail.collect(session)


@event.listens_for(ReadOnly, "do_orm_execute")
def _no_statement_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteInReadSession("this unit of work only reads: a change needs a write session")


@event.listens_for(ReadOnly, "before_flush")
def _no_flushed_writes(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise WriteInReadSession("this unit of work only reads: a change needs a write session")


class UnitOfWork(AsyncSession):
    """An `AsyncSession` that also collects what its transaction causes."""

    def __init__(self, *args: Any, effects: Effects, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.effects = effects
        self.settings = settings
        self.pending = Pending()

    async def record_event(
        self, type_: str, data: dict[str, Any], *, audience: Audience = Audience.public, user_id: int | None = None
    ) -> Event:
        """Add an event to the log; live streams get it once the transaction commits.

        The row is inserted by the next flush (at the latest, the commit's), with
        the other rows of the transaction: no round trip of its own.
        """
        event = Event(type=type_, data=data, audience=audience, user_id=user_id, created_at=utcnow())
        self.add(event)
        self.pending.events.append(event)
        return event

    async def queue_email(self, kind: str, *, to: str, context: dict[str, Any]) -> Email:
        """Render the `kind` template and put the email in the outbox; the worker is woken after commit."""
        rendered = render(kind, {"shop": self.settings.app_name, **context})
        return await self.queue_message(
            to=to, subject=rendered.subject, text=rendered.text, html=rendered.html, kind=kind
        )

    async def queue_message(
        self, *, to: str, subject: str, text: str, html: str | None = None, kind: str = "message"
    ) -> Email:
        """Put an email written by hand in the outbox (`queue_email` renders a template).

        Inserted by the next flush, like events: flush first to read its id.
        """
        now = utcnow()
        email = Email(
            kind=kind,
            to=to,
            subject=subject,
            body_text=text,
            body_html=html,
            status=EmailStatus.queued,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        self.add(email)
        self.pending.jobs_queued = True
        return email

    def audit_as(self, actor_id: int) -> None:
        """This unit of work acts for staff or an admin: what it changes is written to the
        audit log at commit, in the same transaction (a reading one changes nothing)."""
        if isinstance(self.sync_session, Audited):
            self.sync_session.trail = AuditTrail(actor_id)

    def wake_jobs(self) -> None:
        """Work for the job worker was written (a webhook delivery): wake it after commit."""
        self.pending.jobs_queued = True

    def evict(self, *product_ids: int) -> None:
        """These products changed: their cached reads go, in every process, after commit."""
        self.pending.changed_products.update(product_ids)

    def end_sessions(self, ended: SessionsEnded) -> None:
        """These login sessions ended: their event streams close, in every process, after commit."""
        self.pending.ended_sessions.append(ended)

    def after_commit(self, callback: AfterCommit) -> None:
        """Run `callback` once committed (deleting a replaced image file, say); never on rollback."""
        self.pending.callbacks.append(callback)

    async def commit(self) -> None:
        if self.pending.events:
            await self._fan_out(self.pending.events)
        await self._write_audit()
        await super().commit()
        pending, self.pending = self.pending, Pending()
        if pending:
            await self._dispatch(pending)

    async def rollback(self) -> None:
        self.pending = Pending()
        self._forget_audit()
        await super().rollback()

    async def close(self) -> None:
        # Closing without `commit()` rolls back: what was pending never happened.
        self.pending = Pending()
        self._forget_audit()
        await super().close()

    async def _write_audit(self) -> None:
        sync = self.sync_session
        if not isinstance(sync, Audited) or sync.trail is None:
            return
        trail = sync.trail
        await self.flush()  # the last changes noted, and the new rows' ids
        # In the session's greenlet: a column the flush expired may be loaded.
        rows = await self.run_sync(lambda _: trail.rows(utcnow()))
        if rows:
            await self.execute(insert(AuditEntry), rows)

    def _forget_audit(self) -> None:
        sync = self.sync_session
        if isinstance(sync, Audited) and sync.trail is not None:
            sync.trail.changes.clear()

    async def _fan_out(self, events: list[Event]) -> None:
        """One webhook delivery per event and active endpoint subscribed to its
        type, in this transaction: a committed event is never left undelivered."""
        endpoints = (
            await self.execute(select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active))
        ).all()
        if not endpoints:
            return
        await self.flush()  # the events' ids and times
        rows = [
            delivery_row(endpoint_id, event.type, webhook_payload(event.type, event.created_at, event.data), event.id)
            for event in events
            for endpoint_id, subscribed in endpoints
            if "*" in subscribed or event.type in subscribed
        ]
        if rows:
            await self.execute(insert(WebhookDelivery), rows)
            self.wake_jobs()

    async def _dispatch(self, pending: Pending) -> None:
        try:
            await self.effects.dispatch(pending)
        except Exception:
            # The change is committed; what was missed is recovered by replay
            # (events), polling (emails) or the cache's TTL. It must not fail the caller.
            log.exception("uow_dispatch_failed")
        for callback in pending.callbacks:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("after_commit_failed")


def webhook_payload(type_: str, at: datetime, data: dict[str, Any]) -> str:
    """The body of a delivery, as Standard Webhooks has it: `{"type","timestamp","data"}`."""
    timestamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": type_, "timestamp": timestamp, "data": data}, separators=(",", ":"), ensure_ascii=False)


def delivery_row(endpoint_id: int, type_: str, payload: str, event_id: int | None = None) -> dict[str, Any]:
    """A new delivery's columns, due at once; its `webhook-id` is made here, once."""
    now = utcnow()
    return {
        "endpoint_id": endpoint_id,
        "message_id": f"msg_{uuid.uuid4().hex}",
        "event_id": event_id,
        "type": type_,
        "payload": payload,
        "status": DeliveryStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
