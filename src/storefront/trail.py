"""The audit trail of a unit of work: what staff or an admin changed, field by field.

A unit of work acting for staff or an admin (`UnitOfWork.audit_as`, set when
the request's caller is known, or by the admin UI) collects, at every flush,
the rows of the audited models it creates, changes and deletes, with the
changed columns before and after. At commit the collected changes become
`audit_log` rows in the same transaction: the log holds exactly what was
committed, and a rolled-back change leaves no entry. Secrets and hashes are
never collected.

This sees what goes through the ORM, which is how the services change the
audited entities; the few conditional Core UPDATEs (stock taken by a
customer's order, a refund's count) belong to changes recorded here by their
rows (the order, the refund).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from storefront.models import (
    Discount,
    Order,
    Payment,
    Product,
    ProductOption,
    ProductVariant,
    Refund,
    ShippingMethod,
    TaxRate,
    User,
    WebhookEndpoint,
)
from storefront.request_context import request_id_var

ENTITIES: dict[type[Any], str] = {
    Product: "product",
    ProductVariant: "variant",
    ProductOption: "option",
    Order: "order",
    Payment: "payment",
    Refund: "refund",
    User: "user",
    Discount: "discount",
    ShippingMethod: "shipping_method",
    TaxRate: "tax_rate",
    WebhookEndpoint: "webhook",
}
# Never in the log: secrets, hashes, and the bookkeeping every change moves.
NEVER = frozenset({"password_hash", "secret", "previous_secret", "client_secret", "version", "updated_at"})


def _plain(value: Any) -> Any:
    """A column's value as JSON holds it."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def _columns(obj: object) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in NEVER]


def _values(obj: object) -> dict[str, Any]:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


@dataclass
class _Change:
    obj: Any
    entity: str
    action: str  # created, updated, deleted
    before: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditTrail:
    actor_id: int
    changes: dict[int, _Change] = field(default_factory=dict)  # by the object's id(): one entry per row

    def collect(self, session: Session) -> None:
        """Called before each flush: note what this flush will write."""
        for obj in session.new:
            if (entity := ENTITIES.get(type(obj))) is not None:
                self.changes.setdefault(id(obj), _Change(obj, entity, "created"))
        for obj in session.dirty:
            if (entity := ENTITIES.get(type(obj))) is None or not session.is_modified(obj, include_collections=False):
                continue
            change = self.changes.setdefault(id(obj), _Change(obj, entity, "updated"))
            if change.action != "updated":
                continue
            state = inspect(obj)
            for key in _columns(obj):
                history = state.attrs[key].history
                if history.has_changes() and key not in change.before:
                    change.before[key] = _plain(history.deleted[0]) if history.deleted else None
        for obj in session.deleted:
            if (entity := ENTITIES.get(type(obj))) is not None:
                previous = self.changes.get(id(obj))
                self.changes[id(obj)] = _Change(obj, entity, "deleted", _values(obj))
                if previous is not None and previous.action == "created":
                    del self.changes[id(obj)]  # made and removed in one transaction: nothing happened

    def rows(self, now: datetime) -> list[dict[str, Any]]:
        """The log's rows, once everything is flushed (new rows have their ids)."""
        request_id = request_id_var.get()
        rows = []
        for change in self.changes.values():
            before: dict[str, Any] | None
            after: dict[str, Any] | None
            if change.action == "created":
                before, after = None, _values(change.obj)
            elif change.action == "deleted":
                before, after = change.before, None
            else:
                current = {key: _plain(getattr(change.obj, key)) for key in change.before}
                moved = [key for key in change.before if change.before[key] != current[key]]
                if not moved:
                    continue
                before = {key: change.before[key] for key in moved}
                after = {key: current[key] for key in moved}
            identity = inspect(change.obj).identity
            rows.append(
                {
                    "actor_id": self.actor_id,
                    "action": f"{change.entity}.{change.action}",
                    "entity": change.entity,
                    "entity_id": identity[0] if identity else None,
                    "before": before,
                    "after": after,
                    "request_id": request_id,
                    "created_at": now,
                }
            )
        self.changes.clear()
        return rows
