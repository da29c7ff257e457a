from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from storefront.kit.schemas import Id, ReadModel


class AuditEntryRead(ReadModel):
    id: Id
    actor_id: Id | None = Field(description="The staff member or admin who made the change.")
    action: str = Field(max_length=60, examples=["order.updated"])
    entity: str = Field(max_length=40, examples=["order"])
    entity_id: Id | None
    before: dict[str, Any] | None = Field(description="The changed fields as they were (all of them on delete).")
    after: dict[str, Any] | None = Field(description="The changed fields as they became (all of them on create).")
    request_id: str | None = Field(max_length=64, description="The `X-Request-ID` of the request that made it.")
    created_at: datetime
