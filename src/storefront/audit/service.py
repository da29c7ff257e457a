from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storefront.kit.pagination import Page, PageOf, fetch
from storefront.models import AuditEntry
from storefront.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor_id: int | None = None
    entity: str | None = None
    entity_id: int | None = None
    since: datetime | None = None


async def list_entries(session: UnitOfWork, filters: AuditFilters, page: Page) -> PageOf[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.entity is not None:
        query = query.where(AuditEntry.entity == filters.entity)
    if filters.entity_id is not None:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.since is not None:
        query = query.where(AuditEntry.created_at >= filters.since)
    return await fetch(session, query.order_by(AuditEntry.id.desc()), page)
