"""The users export: CSV streamed from the database, never a password hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import select

from storefront.auth.schemas import UserRead
from storefront.database import Database
from storefront.kit.export import export_response
from storefront.models import User

HEADER = ("id", "email", "username", "full_name", "role", "is_active", "created_at")


def _csv_row(user: User) -> Sequence[Any]:
    return (
        user.id,
        user.email,
        user.username,
        user.full_name or "",
        user.role,
        str(user.is_active).lower(),
        user.created_at.isoformat(),
    )


def users_response(database: Database) -> StreamingResponse:
    query = select(User).order_by(User.id)
    return export_response(
        database.snapshot_session, query, name="users", fmt="csv", schema=UserRead, header=HEADER, to_row=_csv_row
    )
