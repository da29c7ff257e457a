from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from storefront.kit.schemas import ReadModel
from storefront.models import Audience


class EventRead(ReadModel):
    id: int
    type: str
    created_at: datetime
    data: dict[str, Any]


class PublishedEvent(EventRead):
    """An event as it travels between processes: with who may see it."""

    audience: Audience
    user_id: int | None

    def public(self) -> EventRead:
        return EventRead(id=self.id, type=self.type, created_at=self.created_at, data=self.data)


class TicketRead(BaseModel):
    ticket: str = Field(max_length=256)
    expires_in: int = Field(ge=1, le=3600, description="Seconds the ticket stays valid.")
