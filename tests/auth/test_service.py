"""The login rules behind /auth/token and /auth/login, called directly."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select

from storefront.auth import service
from storefront.auth.limits import AuthLimits
from storefront.auth.passwords import CURRENT_HASHER
from storefront.database import Database
from storefront.errors import InvalidCredentials
from storefront.kit.ratelimit import RateLimiter
from storefront.models import Email, User
from tests.factories import PASSWORD, Factory


def _limits(database: Database) -> AuthLimits:
    # Limits switched off (the suite's settings), as in the app.
    return AuthLimits(RateLimiter(database.settings), "127.0.0.1")


def _outdated_hash(password: str) -> str:
    return Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(password)


async def test_authenticate_finds_the_user_by_email_or_username_in_any_case(
    database: Database, factory: Factory
) -> None:
    actor = await factory.customer(email="grace@example.com", username="grace_h")

    async with database.write_session() as session:
        by_email = await service.authenticate(session, database, _limits(database), " GRACE@example.com ", PASSWORD)
        by_username = await service.authenticate(session, database, _limits(database), "Grace_H", PASSWORD)

    assert by_email.id == by_username.id == actor.id


async def test_authenticate_rehashes_an_outdated_hash(database: Database, factory: Factory) -> None:
    outdated = _outdated_hash(PASSWORD)
    actor = await factory.customer(password_hash=outdated)

    async with database.write_session() as session, session.begin():
        await service.authenticate(session, database, _limits(database), actor.user.username, PASSWORD)

    user: User = await factory.reload(User, actor.id)
    assert user.password_hash != outdated
    assert not CURRENT_HASHER.check_needs_rehash(user.password_hash)
    async with database.write_session() as session:
        assert (
            await service.authenticate(session, database, _limits(database), actor.user.username, PASSWORD)
        ).id == actor.id


async def test_authenticate_keeps_a_current_hash(database: Database, factory: Factory) -> None:
    actor = await factory.customer()

    async with database.write_session() as session, session.begin():
        await service.authenticate(session, database, _limits(database), actor.user.username, PASSWORD)

    user: User = await factory.reload(User, actor.id)
    assert user.password_hash == actor.user.password_hash


async def test_a_wrong_password_does_not_rehash(database: Database, factory: Factory) -> None:
    outdated = _outdated_hash(PASSWORD)
    actor = await factory.customer(password_hash=outdated)

    async with database.write_session() as session, session.begin():
        with pytest.raises(InvalidCredentials):
            await service.authenticate(session, database, _limits(database), actor.user.username, PASSWORD + "x")

    user: User = await factory.reload(User, actor.id)
    assert user.password_hash == outdated


async def test_an_account_without_a_usable_hash_cannot_log_in(database: Database, factory: Factory) -> None:
    # Erased accounts keep "!" in place of a hash.
    actor = await factory.customer(password_hash="!")

    async with database.write_session() as session:
        with pytest.raises(InvalidCredentials):
            await service.authenticate(session, database, _limits(database), actor.user.username, "!")


async def test_registration_queues_a_welcome_email(client: AsyncClient, database: Database) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Ada@Example.com", "username": "ada_l", "password": "correct horse battery", "full_name": "Ada"},
    )
    assert response.status_code == 201
    async with database.read_session() as session:
        emails = list(await session.scalars(select(Email)))
    assert [(e.kind, e.to, e.subject) for e in emails] == [("welcome", "ada@example.com", "Welcome to Storefront")]
    assert "Hello Ada" in emails[0].body_text


async def test_refused_registration_queues_nothing(client: AsyncClient, database: Database) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "ada@example.com", "username": "ada_l", "password": "short"}
    )
    assert response.status_code == 422
    async with database.read_session() as session:
        assert list(await session.scalars(select(Email))) == []
