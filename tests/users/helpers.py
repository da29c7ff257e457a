"""Helpers the auth and users tests share: what the database holds afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select

from storefront.auth import repository
from storefront.database import Database
from storefront.models import User

USER_FIELDS = {"id", "email", "username", "full_name", "role", "is_active", "created_at"}


async def users_in_db(database: Database) -> list[User]:
    async with database.read_session() as session:
        return list((await session.scalars(select(User).order_by(User.id))).all())


async def set_user(database: Database, user_id: int, **values: Any) -> None:
    """Change a user straight in the database, behind the API's back."""
    async with database.write_session() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)


def pass_uniqueness_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both uniqueness checks pass, as when another request inserts in between."""

    async def never_taken(*_: object, **__: object) -> bool:
        return False

    monkeypatch.setattr(repository, "email_taken", never_taken)
    monkeypatch.setattr(repository, "username_taken", never_taken)


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "request_id"}
