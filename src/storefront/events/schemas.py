from __future__ import annotations

from pydantic import BaseModel, Field

from storefront.messages import EventRead

__all__ = ["EventRead", "TicketRead"]


class TicketRead(BaseModel):
    ticket: str = Field(max_length=256)
    expires_in: int = Field(ge=1, le=3600, description="Seconds the ticket stays valid.")
