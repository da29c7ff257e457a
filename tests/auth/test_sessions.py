"""Sessions: login starts one, refresh tokens rotate, reuse ends it, logout ends it at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt
from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.auth.opaque import digest
from storefront.config import Settings
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import AuthSession, RefreshToken
from tests.auth.conftest import LOGIN, LOGOUT, ME, bearer, log_in, refresh, sessions_in_db
from tests.factories import PASSWORD, Factory
from tests.users.helpers import assert_problem

TOKEN = "/api/v1/auth/token"


async def test_login_returns_the_full_token_pair_uncached(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.json()
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert pair["token_type"] == "bearer"
    assert len(pair["refresh_token"]) >= 43


async def test_the_oauth2_form_returns_the_full_token_pair_too(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(TOKEN, data={"username": actor.user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json()["refresh_token"]


async def test_each_login_starts_a_session_named_in_the_access_token(
    client: AsyncClient, factory: Factory, database: Database, settings: Settings
) -> None:
    actor = await factory.customer()

    first = await log_in(client, actor.user.username)
    second = await client.post(
        LOGIN, json={"username": actor.user.username, "password": PASSWORD}, headers={"User-Agent": "pytest-agent"}
    )

    stored = await sessions_in_db(database, excluding=actor)
    assert [s.user_id for s in stored] == [actor.id, actor.id]
    assert stored[1].user_agent == "pytest-agent"
    claims = [
        jwt.decode(pair["access_token"], settings.secret_key, algorithms=["HS256"]) for pair in (first, second.json())
    ]
    assert [c["sid"] for c in claims] == [s.id for s in stored]


async def test_the_refresh_token_is_stored_only_as_its_hash(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()

    pair = await log_in(client, actor.user.username)

    query = select(RefreshToken).where(RefreshToken.session_id != actor.session_id)
    async with database.read_session() as session:
        [stored] = (await session.scalars(query)).all()
    assert stored.token_hash == digest(pair["refresh_token"])
    assert pair["refresh_token"] not in stored.token_hash


async def test_refresh_rotates_the_old_token_stops_working(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    rotated = await refresh(client, pair["refresh_token"])

    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.json()
    assert new["refresh_token"] != pair["refresh_token"]
    assert (await client.get(ME, headers=bearer(new["access_token"]))).status_code == 200
    again = await refresh(client, new["refresh_token"])
    assert again.status_code == 200, again.text


async def test_reusing_a_rotated_refresh_token_ends_the_whole_session(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    other_session = await log_in(client, actor.user.username)
    rotated = (await refresh(client, pair["refresh_token"])).json()

    reuse = await refresh(client, pair["refresh_token"])

    body = assert_problem(reuse, 401, "invalid_refresh_token")
    assert reuse.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "refresh_token" not in body
    # Every token of that session is dead: the newest refresh token and every access token.
    assert_problem(await refresh(client, rotated["refresh_token"]), 401, "invalid_refresh_token")
    assert_problem(await client.get(ME, headers=bearer(rotated["access_token"])), 401, "invalid_token")
    assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
    # The user's other sessions go on.
    assert (await client.get(ME, headers=bearer(other_session["access_token"]))).status_code == 200
    stored = await sessions_in_db(database, excluding=actor)
    assert [s.revoked_at is not None for s in stored] == [True, False]


async def test_two_concurrent_uses_of_one_refresh_token_never_both_succeed(
    client: AsyncClient, factory: Factory
) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    answers = await asyncio.gather(*(refresh(client, pair["refresh_token"]) for _ in range(2)))

    assert sorted(a.status_code for a in answers) == [200, 401], [a.text for a in answers]
    # The loser was a reuse: the session is over, the winner's tokens included.
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await refresh(client, winner["refresh_token"])).status_code == 401


async def test_an_unknown_refresh_token_is_refused(client: AsyncClient) -> None:
    response = await refresh(client, "not-a-refresh-token")

    assert_problem(response, 401, "invalid_refresh_token")


async def test_an_access_token_is_no_refresh_token(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    response = await refresh(client, pair["access_token"])

    assert_problem(response, 401, "invalid_refresh_token")


async def test_an_expired_refresh_token_is_refused(client: AsyncClient, factory: Factory, database: Database) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    async with database.write_session() as session, session.begin():
        await session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    response = await refresh(client, pair["refresh_token"])

    assert_problem(response, 401, "invalid_refresh_token")


async def test_an_expired_session_ends_its_access_tokens(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    async with database.write_session() as session, session.begin():
        await session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
    assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")


async def test_refresh_moves_the_session_expiry_forward(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    [before] = await sessions_in_db(database, excluding=actor)

    await refresh(client, pair["refresh_token"])

    [after] = await sessions_in_db(database, excluding=actor)
    assert after.expires_at > before.expires_at
    assert after.last_used_at > before.last_used_at


async def test_a_deactivated_user_cannot_refresh(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    deactivated = await client.patch(f"/api/v1/users/{actor.id}", json={"is_active": False}, headers=admin.headers)
    assert deactivated.status_code == 200
    await client.patch(f"/api/v1/users/{actor.id}", json={"is_active": True}, headers=admin.headers)

    # Reactivating lets the user log in again, but the sessions ended for good.
    assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
    assert (await log_in(client, actor.user.username))["access_token"]


async def test_logout_ends_the_access_token_at_once(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    other = await log_in(client, actor.user.username)
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 200

    response = await client.post(LOGOUT, headers=bearer(pair["access_token"]))

    assert response.status_code == 204
    after = await client.get(ME, headers=bearer(pair["access_token"]))
    assert_problem(after, 401, "invalid_token")
    assert after.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    # Only that session ended.
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_logout_needs_a_token(client: AsyncClient) -> None:
    response = await client.post(LOGOUT)

    assert_problem(response, 401, "not_authenticated")


async def test_logging_out_twice_is_401_the_second_time(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    assert (await client.post(LOGOUT, headers=bearer(pair["access_token"]))).status_code == 204
    assert_problem(await client.post(LOGOUT, headers=bearer(pair["access_token"])), 401, "invalid_token")


async def test_refresh_refuses_unknown_fields(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x", "user_id": 1})

    assert_problem(response, 422, "validation_error")
