"""Account management called directly: what the unique indexes catch when checks
race, and erasure."""

from __future__ import annotations

import pytest

from storefront.auth.errors import UsernameTaken
from storefront.database import Database
from storefront.models import AuthSession, User
from storefront.users import service
from storefront.users.schemas import UserSelfUpdate
from tests.factories import Factory
from tests.users.helpers import pass_uniqueness_checks, users_in_db


async def test_update_turns_a_lost_race_into_taken(
    database: Database, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await factory.customer(username="taken")
    actor = await factory.customer()
    pass_uniqueness_checks(monkeypatch)

    async with database.write_session() as session:
        user = await session.get(User, actor.id)
        assert user is not None
        with pytest.raises(UsernameTaken):
            await service.update(session, user, UserSelfUpdate(username="Taken"))


async def test_deactivate_and_erase_ends_sessions_and_keeps_the_row(database: Database, factory: Factory) -> None:
    actor = await factory.customer(full_name="Someone")

    async with database.write_session() as session, session.begin():
        user = await session.get(User, actor.id)
        assert user is not None
        await service.deactivate_and_erase(session, user)

    [user] = await users_in_db(database)
    assert user.id == actor.id
    assert (user.is_active, user.full_name) == (False, None)
    auth_session: AuthSession = await factory.reload(AuthSession, actor.session_id)
    assert auth_session.revoked_at is not None
