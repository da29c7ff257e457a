"""`GET /api/v1/audit-log`, for admins."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from storefront.audit import service
from storefront.audit.schemas import AuditEntryRead
from storefront.auth.dependencies import AdminUser
from storefront.context import ReadSession
from storefront.contract import api_router
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, with_page_headers
from storefront.kit.schemas import MAX_ID
from storefront.models import AuditEntry
from storefront.rules.schemas import Instant
from storefront.trail import ENTITIES

router = api_router("/audit-log", tags=["audit"], responses=problems(401, 403))

Entity = StrEnum("Entity", {name: name for name in sorted(ENTITIES.values())})  # type: ignore[misc]


async def _filters(
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Changes by this user.")] = None,
    entity: Annotated[Entity | None, Query(description="Changes to this kind of thing.")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Changes to this one (with `entity`).")] = None,
    since: Annotated[Instant | None, Query(description="At or after this time (ISO 8601, with an offset).")] = None,
) -> service.AuditFilters:
    return service.AuditFilters(
        actor_id=actor_id, entity=str(entity.value) if entity is not None else None, entity_id=entity_id, since=since
    )


@router.get("", response_model=list[AuditEntryRead], responses=problems(422))
async def list_audit_log(
    _: AdminUser,
    session: ReadSession,
    filters: Annotated[service.AuditFilters, Depends(_filters)],
    page: PageDep,
    request: Request,
    response: Response,
) -> list[AuditEntry]:
    """Every change staff and admins made through the API or the admin UI, newest first."""
    return with_page_headers(request, response, await service.list_entries(session, filters, page))
