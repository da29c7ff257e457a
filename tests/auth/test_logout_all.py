"""POST /auth/logout-all: every session of the caller ends, this one included."""

from __future__ import annotations

from httpx import AsyncClient

from storefront.auth.errors import FreshLoginRequired
from storefront.database import Database
from tests.auth.conftest import ME, bearer, log_in, refresh, sessions_in_db
from tests.factories import Factory
from tests.users.helpers import assert_problem

LOGOUT_ALL = "/api/v1/auth/logout-all"


async def test_logout_all_ends_every_session_and_token_of_the_caller(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()
    phone, laptop = await log_in(client, actor.user.username), await log_in(client, actor.user.username)

    response = await client.post(LOGOUT_ALL, headers=bearer(phone["access_token"]))

    assert response.status_code == 204
    assert response.content == b""
    for pair in (phone, laptop):
        assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
        assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    # The session the factory logged in with ends too.
    assert_problem(await client.get(ME, headers=actor.headers), 401, "invalid_token")
    assert all(session.revoked_at is not None for session in await sessions_in_db(database))


async def test_logging_in_again_afterwards_works(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    old = await log_in(client, actor.user.username)
    assert (await client.post(LOGOUT_ALL, headers=bearer(old["access_token"]))).status_code == 204

    new = await log_in(client, actor.user.username)

    assert (await client.get(ME, headers=bearer(new["access_token"]))).status_code == 200


async def test_other_users_sessions_go_on(client: AsyncClient, factory: Factory) -> None:
    actor, other = await factory.customer(), await factory.customer()
    mine, theirs = await log_in(client, actor.user.username), await log_in(client, other.user.username)

    assert (await client.post(LOGOUT_ALL, headers=bearer(mine["access_token"]))).status_code == 204

    assert (await client.get(ME, headers=bearer(theirs["access_token"]))).status_code == 200
    assert (await refresh(client, theirs["refresh_token"])).status_code == 200
    assert (await client.get(ME, headers=other.headers)).status_code == 200


async def test_an_api_key_cannot_log_out_everywhere(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    created = await client.post("/api/v1/auth/api-keys", json={"name": "script"}, headers=bearer(pair["access_token"]))
    key = {"X-API-Key": created.json()["key"]}

    response = await client.post(LOGOUT_ALL, headers=key)

    assert_problem(response, 403, FreshLoginRequired.code)
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 200
    assert (await client.get(ME, headers=key)).status_code == 200


async def test_logout_all_needs_credentials(client: AsyncClient) -> None:
    response = await client.post(LOGOUT_ALL)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    bad = await client.post(LOGOUT_ALL, headers=bearer("not-a-token"))
    assert_problem(bad, 401, "invalid_token")
