"""What travels between processes through the broker, after a commit.

Three kinds, each on its own channel: events (for streams), ended login
sessions (their streams close) and changed products (their cached reads are
evicted). Nothing here is an instruction to any one domain: each listener
decides what a message means to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

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


class SessionsEnded(BaseModel):
    """Login sessions of one user that ended (logout, password change, deactivation):
    the streams they opened close, in every process.

    `session_ids` None means every session of the user but `keep`.
    """

    model_config = ConfigDict(frozen=True)

    user_id: int
    session_ids: tuple[int, ...] | None = None
    keep: int | None = None

    def ends(self, user_id: int, session_id: int | None) -> bool:
        """Whether a stream of `user_id` in `session_id` must close."""
        if user_id != self.user_id:
            return False
        if self.session_ids is None:
            return session_id is None or session_id != self.keep
        return session_id in self.session_ids


class ProductsChanged(BaseModel):
    """Products whose stored state changed (catalog edits, stock taken or returned)."""

    model_config = ConfigDict(frozen=True)

    product_ids: tuple[int, ...]
