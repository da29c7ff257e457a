"""Account creation called directly: what the unique indexes catch when checks race."""

from __future__ import annotations

import pytest

from storefront.auth import accounts
from storefront.auth.errors import EmailTaken, UsernameTaken
from storefront.auth.schemas import UserRegister
from storefront.database import Database
from storefront.models import Role
from tests.factories import Factory
from tests.users.helpers import pass_uniqueness_checks, users_in_db

STRONG = "violet-otter-marmalade-42"


@pytest.mark.parametrize(
    ("email", "username", "error"),
    [
        ("taken@example.com", "fresh", EmailTaken),
        ("fresh@example.com", "TAKEN", UsernameTaken),
    ],
)
async def test_create_turns_a_lost_race_into_taken(
    database: Database,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    username: str,
    error: type[Exception],
) -> None:
    existing = await factory.customer(email="taken@example.com", username="taken")
    pass_uniqueness_checks(monkeypatch)

    async with database.write_session() as session:
        with pytest.raises(error):
            await accounts.create(session, UserRegister(email=email, username=username, password=STRONG))

    assert [user.id for user in await users_in_db(database)] == [existing.id]


async def test_create_flushes_but_leaves_the_commit_to_the_caller(database: Database) -> None:
    async with database.write_session() as session:
        user = await accounts.create(
            session, UserRegister(email="new@example.com", username="newbie", password=STRONG), role=Role.staff
        )
        assert user.id is not None
        await session.rollback()

    assert await users_in_db(database) == []
