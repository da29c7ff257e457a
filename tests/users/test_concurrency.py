"""Writes that race: the loser gets a clean answer, never a 500."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient
from pwdlib.hashers.argon2 import Argon2Hasher

from storefront.auth.passwords import CURRENT_HASHER
from storefront.models import User
from tests.factories import PASSWORD, Factory

USERS = "/api/v1/users"


async def test_two_patches_with_the_same_if_match_one_wins_one_gets_412(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"
    etag = (await client.get(url, headers=admin.headers)).headers["ETag"]
    headers = admin.headers | {"If-Match": etag}

    responses = await asyncio.gather(
        client.patch(url, json={"full_name": "First"}, headers=headers),
        client.patch(url, json={"full_name": "Second"}, headers=headers),
    )

    assert sorted(response.status_code for response in responses) == [200, 412], [r.text for r in responses]
    winner = next(response for response in responses if response.status_code == 200)
    user: User = await factory.reload(User, other.id)
    assert user.full_name == winner.json()["full_name"]


async def test_concurrent_patches_without_if_match_all_succeed(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"

    responses = await asyncio.gather(
        *(client.patch(url, json={"full_name": f"Name {n}"}, headers=admin.headers) for n in range(4))
    )

    assert [response.status_code for response in responses] == [200] * 4, [r.text for r in responses]
    user: User = await factory.reload(User, other.id)
    assert user.version == 5


async def test_concurrent_patches_of_ones_own_account_all_succeed(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    responses = await asyncio.gather(
        *(client.patch(f"{USERS}/me", json={"full_name": f"Name {n}"}, headers=actor.headers) for n in range(4))
    )

    assert [response.status_code for response in responses] == [200] * 4, [r.text for r in responses]


async def test_delete_racing_a_patch_never_fails(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"

    patched, deleted = await asyncio.gather(
        client.patch(url, json={"full_name": "Racing"}, headers=admin.headers),
        client.delete(url, headers=admin.headers),
    )

    assert (patched.status_code, deleted.status_code) == (200, 204), (patched.text, deleted.text)
    user: User = await factory.reload(User, other.id)
    assert user.is_active is False


async def test_concurrent_logins_that_rehash_all_succeed(client: AsyncClient, factory: Factory) -> None:
    outdated = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    actor = await factory.customer(password_hash=outdated)
    form = {"username": actor.user.username, "password": PASSWORD}

    responses = await asyncio.gather(*(client.post("/api/v1/auth/token", data=form) for _ in range(3)))

    assert [response.status_code for response in responses] == [200] * 3, [r.text for r in responses]
    user: User = await factory.reload(User, actor.id)
    assert not CURRENT_HASHER.check_needs_rehash(user.password_hash)


async def test_concurrent_deletes_of_one_user_both_succeed(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"

    responses = await asyncio.gather(
        client.delete(url, headers=admin.headers), client.delete(url, headers=admin.headers)
    )

    assert [response.status_code for response in responses] == [204, 204], [r.text for r in responses]
    user: User = await factory.reload(User, other.id)
    assert user.is_active is False
