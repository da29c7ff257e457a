"""Rules that keep an account and the shop in their owners' hands: an API key
cannot move its owner's email (a password reset would follow it), and the
last active admin cannot be removed."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from storefront.database import Database
from storefront.models import Role, User
from tests.auth.conftest import log_in
from tests.factories import Factory
from tests.users.helpers import assert_problem, users_in_db

ME = "/api/v1/users/me"


async def _api_key(client: AsyncClient, username: str) -> str:
    pair = await log_in(client, username)
    created = await client.post(
        "/api/v1/auth/api-keys", json={"name": "ci"}, headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


async def test_an_api_key_cannot_change_its_owners_email(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(email="owner@example.com")
    key = await _api_key(client, actor.user.username)

    moved = await client.patch(ME, json={"email": "thief@example.com"}, headers={"X-API-Key": key})
    renamed = await client.patch(ME, json={"full_name": "Still Me"}, headers={"X-API-Key": key})

    assert_problem(moved, 403, "fresh_login_required")
    assert renamed.status_code == 200, renamed.text
    user: User = await factory.reload(User, actor.id)
    assert (user.email, user.full_name) == ("owner@example.com", "Still Me")


async def test_a_bearer_from_a_login_may_change_the_email(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    moved = await client.patch(
        ME, json={"email": "new@example.com"}, headers={"Authorization": f"Bearer {pair['access_token']}"}
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["email"] == "new@example.com"


async def test_the_last_admin_cannot_delete_deactivate_or_demote_themselves(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    url = f"/api/v1/users/{admin.id}"

    deleted = await client.delete(url, headers=admin.headers)
    deactivated = await client.patch(url, json={"is_active": False}, headers=admin.headers)
    demoted = await client.patch(url, json={"role": "staff"}, headers=admin.headers)

    for response in (deleted, deactivated, demoted):
        assert_problem(response, 409, "last_admin")
    user: User = await factory.reload(User, admin.id)
    assert (user.role, user.is_active, user.email) == (Role.admin, True, admin.user.email)


async def test_an_admin_may_go_while_another_stays(client: AsyncClient, factory: Factory) -> None:
    first, second = await factory.admin(), await factory.admin()

    demoted = await client.patch(f"/api/v1/users/{second.id}", json={"role": "customer"}, headers=first.headers)
    self_demoted = await client.patch(f"/api/v1/users/{first.id}", json={"role": "staff"}, headers=first.headers)

    assert demoted.status_code == 200, demoted.text
    assert_problem(self_demoted, 409, "last_admin")


async def test_two_admins_removing_each_other_at_once_never_leave_none(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    for _ in range(5):
        first, second = await factory.admin(), await factory.admin()
        responses = await asyncio.gather(
            client.patch(f"/api/v1/users/{second.id}", json={"is_active": False}, headers=first.headers),
            client.patch(f"/api/v1/users/{first.id}", json={"role": "staff"}, headers=second.headers),
        )
        statuses = sorted(response.status_code for response in responses)
        # At most one wins; a loser is refused as (possibly) the last admin, or,
        # its caller having just lost the role or the account, as not allowed.
        assert statuses[0] in (200, 409), [r.text for r in responses]
        assert statuses[1] in (401, 403, 409), [r.text for r in responses]
        admins = [u for u in await users_in_db(database) if u.role == Role.admin and u.is_active]
        assert len(admins) == (1 if statuses[0] == 200 else 2)
        # Start the next round from no admin at all.
        for user in await users_in_db(database):
            if user.role == Role.admin:
                async with database.write_session() as session, session.begin():
                    row = await session.get(User, user.id)
                    assert row is not None
                    row.role = Role.customer


async def test_an_admins_api_key_cannot_change_the_admins_own_email_by_id(
    client: AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin(email="boss@example.com")
    customer = await factory.customer(email="ann@example.com")
    key = await _api_key(client, admin.user.username)

    own = await client.patch(
        f"/api/v1/users/{admin.id}", json={"email": "thief@example.com"}, headers={"X-API-Key": key}
    )
    other = await client.patch(
        f"/api/v1/users/{customer.id}", json={"email": "ann2@example.com"}, headers={"X-API-Key": key}
    )

    assert_problem(own, 403, "fresh_login_required")
    assert other.status_code == 200, other.text  # administering others is what an admin's key is for
    assert (await factory.reload(User, admin.id)).email == "boss@example.com"
