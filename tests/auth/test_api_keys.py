"""API keys: shown once, stored hashed, acting as their owner, revoked at once."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from storefront.auth.opaque import digest
from storefront.database import Database
from storefront.models import ApiKey
from tests.auth.conftest import ME, bearer, log_in
from tests.factories import Actor, Factory
from tests.users.helpers import assert_problem

KEYS = "/api/v1/auth/api-keys"
USERS = "/api/v1/users"


async def _session_headers(client: AsyncClient, actor: Actor) -> dict[str, str]:
    return bearer((await log_in(client, actor.user.username))["access_token"])


async def _create(client: AsyncClient, headers: dict[str, str], name: str = "script") -> dict[str, Any]:
    response = await client.post(KEYS, json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer()
    headers = await _session_headers(client, actor)

    response = await client.post(KEYS, json={"name": "nightly export"}, headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    created = response.json()
    assert set(created) == {"id", "name", "key", "prefix", "created_at"}
    assert created["name"] == "nightly export"
    assert created["key"].startswith(created["prefix"])
    async with database.read_session() as session:
        [stored] = (await session.scalars(select(ApiKey))).all()
    assert (stored.user_id, stored.prefix) == (actor.id, created["prefix"])
    assert stored.key_hash == digest(created["key"])
    listed = await client.get(KEYS, headers=headers)
    assert created["key"] not in listed.text
    assert [(k["id"], k["prefix"]) for k in listed.json()] == [(created["id"], created["prefix"])]
    assert "key" not in listed.json()[0]


async def test_a_key_acts_as_its_owner_with_the_owners_role(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    customer = await factory.customer()
    admin_key = (await _create(client, await _session_headers(client, admin)))["key"]
    customer_key = (await _create(client, await _session_headers(client, customer)))["key"]

    me = await client.get(ME, headers={"X-API-Key": customer_key})
    as_admin = await client.get(USERS, headers={"X-API-Key": admin_key})
    as_customer = await client.get(USERS, headers={"X-API-Key": customer_key})

    assert me.status_code == 200
    assert me.json()["id"] == customer.id
    assert as_admin.status_code == 200
    assert_problem(as_customer, 403, "forbidden")


async def test_a_revoked_key_stops_working_at_once(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    headers = await _session_headers(client, actor)
    created = await _create(client, headers)
    assert (await client.get(ME, headers={"X-API-Key": created["key"]})).status_code == 200

    response = await client.delete(f"{KEYS}/{created['id']}", headers=headers)

    assert response.status_code == 204
    after = await client.get(ME, headers={"X-API-Key": created["key"]})
    assert_problem(after, 401, "invalid_token")
    assert (await client.get(KEYS, headers=headers)).json() == []


async def test_only_the_owner_or_an_admin_may_revoke_a_key(client: AsyncClient, factory: Factory) -> None:
    owner = await factory.customer()
    stranger = await factory.customer()
    admin = await factory.admin()
    created = await _create(client, await _session_headers(client, owner))
    url = f"{KEYS}/{created['id']}"

    by_stranger = await client.delete(url, headers=stranger.headers)
    missing = await client.delete(f"{KEYS}/{created['id'] + 1000}", headers=stranger.headers)
    assert (await client.get(ME, headers={"X-API-Key": created["key"]})).status_code == 200
    by_admin = await client.delete(url, headers=admin.headers)

    assert_problem(by_stranger, 404, "api_key_not_found")
    assert by_stranger.json()["detail"] == missing.json()["detail"]
    assert by_admin.status_code == 204
    assert_problem(await client.get(ME, headers={"X-API-Key": created["key"]}), 401, "invalid_token")
    assert_problem(await client.delete(url, headers=admin.headers), 404, "api_key_not_found")


async def test_a_key_may_revoke_itself_but_not_make_or_revoke_other_keys(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    login = await _session_headers(client, actor)
    created, sibling = await _create(client, login), await _create(client, login)
    by_key = {"X-API-Key": created["key"]}

    more = await client.post(KEYS, json={"name": "another"}, headers=by_key)
    logout = await client.post("/api/v1/auth/logout", headers=by_key)
    other = await client.delete(f"{KEYS}/{sibling['id']}", headers=by_key)
    itself = await client.delete(f"{KEYS}/{created['id']}", headers=by_key)

    assert_problem(more, 403, "fresh_login_required")
    assert_problem(logout, 403, "fresh_login_required")
    assert_problem(other, 403, "fresh_login_required")
    assert itself.status_code == 204
    assert (await client.get(ME, headers={"X-API-Key": sibling["key"]})).status_code == 200


async def test_keys_list_only_the_callers_own(client: AsyncClient, factory: Factory) -> None:
    owner = await factory.customer()
    admin = await factory.admin()
    await _create(client, await _session_headers(client, owner))

    assert (await client.get(KEYS, headers=admin.headers)).json() == []


async def test_an_unknown_key_is_an_invalid_credential(client: AsyncClient) -> None:
    response = await client.get(ME, headers={"X-API-Key": "sf_not-a-real-key"})

    assert_problem(response, 401, "invalid_token")


async def test_a_deactivated_owners_keys_stop_working(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    actor = await factory.customer()
    created = await _create(client, await _session_headers(client, actor))

    await client.patch(f"{USERS}/{actor.id}", json={"is_active": False}, headers=admin.headers)

    assert_problem(await client.get(ME, headers={"X-API-Key": created["key"]}), 401, "invalid_token")


async def test_an_erased_users_keys_are_revoked(client: AsyncClient, factory: Factory, database: Database) -> None:
    admin = await factory.admin()
    actor = await factory.customer()
    await _create(client, await _session_headers(client, actor))

    assert (await client.delete(f"{USERS}/{actor.id}", headers=admin.headers)).status_code == 204

    async with database.read_session() as session:
        [stored] = (await session.scalars(select(ApiKey))).all()
    assert stored.revoked_at is not None


async def test_using_a_key_records_when(client: AsyncClient, factory: Factory, database: Database) -> None:
    actor = await factory.customer()
    created = await _create(client, await _session_headers(client, actor))

    await client.get(ME, headers={"X-API-Key": created["key"]})

    async with database.read_session() as session:
        [stored] = (await session.scalars(select(ApiKey))).all()
    assert stored.last_used_at is not None


@pytest.mark.parametrize("name", ["", " ", "\t\n", "\u3000"])
async def test_a_key_needs_a_name(client: AsyncClient, factory: Factory, database: Database, name: str) -> None:
    actor = await factory.customer()

    response = await client.post(KEYS, json={"name": name}, headers=await _session_headers(client, actor))

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in body["errors"]] == [["body", "name"]]
    async with database.read_session() as session:
        assert (await session.scalars(select(ApiKey))).all() == []


async def test_a_key_name_is_stripped(client: AsyncClient, factory: Factory, database: Database) -> None:
    actor = await factory.customer()

    created = await _create(client, await _session_headers(client, actor), name="  nightly export\n")

    assert created["name"] == "nightly export"
    async with database.read_session() as session:
        [stored] = (await session.scalars(select(ApiKey))).all()
    assert stored.name == "nightly export"


async def test_openapi_documents_the_api_key_scheme(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert any(s.get("type") == "apiKey" and s.get("name") == "X-API-Key" for s in schemes.values())
