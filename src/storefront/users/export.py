"""The users export: CSV streamed from the database, never a password hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import select

from storefront.db import Database
from storefront.kit.export import export_response
from storefront.models import User
from storefront.users.schemas import UserRead

HEADER = ("id", "email", "username", "full_name", "role", "is_active", "created_at")
# A cell starting with one of these is a formula to a spreadsheet (CSV
# injection): users choose their own names, and an admin opens the file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_row(user: User) -> Sequence[Any]:
    return (
        user.id,
        _text(user.email),
        user.username,
        _text(user.full_name),
        user.role,
        str(user.is_active).lower(),
        user.created_at.isoformat(),
    )


def users_response(database: Database) -> StreamingResponse:
    query = select(User).order_by(User.id)
    return export_response(database, query, name="users", fmt="csv", schema=UserRead, header=HEADER, to_row=_csv_row)
