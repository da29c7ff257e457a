"""User rules called directly: what the unique indexes catch when checks race."""

from __future__ import annotations

import pytest

from storefront.database import Database
from storefront.models import Role, User
from storefront.users import repository, service
from storefront.users.errors import EmailTaken, UsernameTaken
from storefront.users.schemas import UserCreate, UserSelfUpdate
from tests.factories import Factory
from tests.users.helpers import users_in_db

STRONG = "violet-otter-marmalade-42"


@pytest.fixture
def checks_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both uniqueness checks pass, as when another request inserts in between."""

    async def never_taken(*_: object, **__: object) -> bool:
        return False

    monkeypatch.setattr(repository, "email_taken", never_taken)
    monkeypatch.setattr(repository, "username_taken", never_taken)


@pytest.mark.usefixtures("checks_race")
@pytest.mark.parametrize(
    ("email", "username", "error"),
    [
        ("taken@example.com", "fresh", EmailTaken),
        ("fresh@example.com", "TAKEN", UsernameTaken),
    ],
)
async def test_create_turns_a_lost_race_into_taken(
    database: Database, factory: Factory, email: str, username: str, error: type[Exception]
) -> None:
    existing = await factory.customer(email="taken@example.com", username="taken")

    async with database.write_session() as session:
        with pytest.raises(error):
            await service.create(session, UserCreate(email=email, username=username, password=STRONG))

    assert [user.id for user in await users_in_db(database)] == [existing.id]


@pytest.mark.usefixtures("checks_race")
async def test_update_turns_a_lost_race_into_taken(database: Database, factory: Factory) -> None:
    await factory.customer(username="taken")
    actor = await factory.customer()

    async with database.write_session() as session:
        user = await session.get(User, actor.id)
        assert user is not None
        with pytest.raises(UsernameTaken):
            await service.update(session, user, UserSelfUpdate(username="Taken"))


async def test_create_flushes_but_leaves_the_commit_to_the_caller(database: Database) -> None:
    async with database.write_session() as session:
        user = await service.create(
            session, UserCreate(email="new@example.com", username="newbie", password=STRONG), role=Role.staff
        )
        assert user.id is not None
        await session.rollback()

    assert await users_in_db(database) == []


async def test_deactivate_and_erase_ends_sessions_and_keeps_the_row(database: Database, factory: Factory) -> None:
    actor = await factory.customer(full_name="Someone")

    async with database.write_session() as session, session.begin():
        user = await session.get(User, actor.id)
        assert user is not None
        await service.deactivate_and_erase(session, user)

    [user] = await users_in_db(database)
    assert user.id == actor.id
    assert user.token_version == actor.user.token_version + 1
    assert (user.is_active, user.full_name) == (False, None)
