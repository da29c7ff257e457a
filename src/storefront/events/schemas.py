from __future__ import annotations

from pydantic import BaseModel

from storefront.messages import EventRead

__all__ = ["EventRead", "TicketRead"]


class TicketRead(BaseModel):
    ticket: str
    expires_in: int
