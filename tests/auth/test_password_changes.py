"""Changing a password (other sessions end) and resetting one by email (every session ends)."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.auth.opaque import digest
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Email, PasswordResetToken
from tests.auth.conftest import LOGIN, ME, bearer, log_in, refresh, reset_tokens_sent
from tests.factories import PASSWORD, Factory
from tests.users.helpers import assert_problem, without_request_id

PASSWORD_URL = "/api/v1/auth/password"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW = "violet-otter-marmalade-42"


# --- change -----------------------------------------------------------------


async def test_changing_the_password_ends_every_other_session(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    current = await log_in(client, actor.user.username)
    other = await log_in(client, actor.user.username)

    response = await client.post(
        PASSWORD_URL,
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=bearer(current["access_token"]),
    )

    assert response.status_code == 204, response.text
    assert (await client.get(ME, headers=bearer(current["access_token"]))).status_code == 200
    assert (await refresh(client, current["refresh_token"])).status_code == 200
    assert_problem(await client.get(ME, headers=bearer(other["access_token"])), 401, "invalid_token")
    assert_problem(await refresh(client, other["refresh_token"]), 401, "invalid_refresh_token")
    # The session the factory logged in with is another one: it ends too.
    assert_problem(await client.get(ME, headers=actor.headers), 401, "invalid_token")
    assert (await log_in(client, actor.user.username, NEW))["access_token"]
    old = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")


async def test_changing_the_password_needs_the_current_one(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)
    other = await log_in(client, actor.user.username)

    response = await client.post(
        PASSWORD_URL,
        json={"current_password": "wrong-password-1", "new_password": NEW},
        headers=bearer(pair["access_token"]),
    )

    assert_problem(response, 400, "invalid_current_password")
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200
    assert (await log_in(client, actor.user.username))["access_token"]


async def test_passwords_are_changed_and_checked_exactly_as_typed(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    padded_current = await client.post(
        PASSWORD_URL,
        json={"current_password": f" {PASSWORD} ", "new_password": NEW},
        headers=bearer(pair["access_token"]),
    )
    changed = await client.post(
        PASSWORD_URL,
        json={"current_password": PASSWORD, "new_password": f"  {NEW} "},
        headers=bearer(pair["access_token"]),
    )

    assert_problem(padded_current, 400, "invalid_current_password")
    assert changed.status_code == 204, changed.text
    assert (await log_in(client, actor.user.username, f"  {NEW} "))["access_token"]
    stripped = await client.post(LOGIN, json={"username": actor.user.username, "password": NEW})
    assert_problem(stripped, 401, "invalid_credentials")


async def test_a_weak_new_password_is_refused_with_the_reason(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    pair = await log_in(client, actor.user.username)

    response = await client.post(
        PASSWORD_URL,
        json={"current_password": PASSWORD, "new_password": "cookiemonster"},
        headers=bearer(pair["access_token"]),
    )

    body = assert_problem(response, 422, "weak_password")
    assert "too common" in body["detail"]
    assert (await log_in(client, actor.user.username))["access_token"]


async def test_changing_the_password_needs_a_token(client: AsyncClient) -> None:
    response = await client.post(PASSWORD_URL, json={"current_password": PASSWORD, "new_password": NEW})

    assert_problem(response, 401, "not_authenticated")


# --- reset ------------------------------------------------------------------


async def test_a_reset_request_answers_the_same_whether_the_account_exists(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    await factory.customer(email="ada@example.com")

    known = await client.post(RESET, json={"email": "Ada@Example.com"})
    unknown = await client.post(RESET, json={"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert without_request_id(known.json()) == without_request_id(unknown.json())
    assert known.headers["content-type"] == unknown.headers["content-type"]
    async with database.read_session() as session:
        emails = (await session.scalars(select(Email))).all()
    assert [(e.kind, e.to) for e in emails] == [("password_reset", "ada@example.com")]


async def test_a_disabled_account_gets_no_reset_email(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    await factory.customer(email="gone@example.com", is_active=False)

    response = await client.post(RESET, json={"email": "gone@example.com"})

    assert response.status_code == 202
    assert await reset_tokens_sent(database, "gone@example.com") == []


async def test_the_reset_token_is_emailed_and_stored_only_as_its_hash(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer(email="ada@example.com")

    await client.post(RESET, json={"email": "ada@example.com"})

    [token] = await reset_tokens_sent(database, "ada@example.com")
    async with database.read_session() as session:
        [stored] = (await session.scalars(select(PasswordResetToken))).all()
    assert stored.user_id == actor.id
    assert stored.token_hash == digest(token)
    assert timedelta(minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=1)


async def test_a_confirmed_reset_sets_the_password_and_ends_every_session(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    actor = await factory.customer(email="ada@example.com")
    sessions = [await log_in(client, actor.user.username) for _ in range(2)]
    await client.post(RESET, json={"email": "ada@example.com"})
    [token] = await reset_tokens_sent(database, "ada@example.com")

    response = await client.post(CONFIRM, json={"token": token, "new_password": NEW})

    assert response.status_code == 204, response.text
    for pair in sessions:
        assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
        assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid_refresh_token")
    assert (await log_in(client, actor.user.username, NEW))["access_token"]
    old = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")


async def test_a_reset_token_works_once(client: AsyncClient, factory: Factory, database: Database) -> None:
    actor = await factory.customer(email="ada@example.com")
    await client.post(RESET, json={"email": "ada@example.com"})
    [token] = await reset_tokens_sent(database, "ada@example.com")
    assert (await client.post(CONFIRM, json={"token": token, "new_password": NEW})).status_code == 204

    again = await client.post(CONFIRM, json={"token": token, "new_password": "another-long-passphrase"})

    assert_problem(again, 400, "invalid_reset_token")
    assert (await log_in(client, actor.user.username, NEW))["access_token"]


async def test_an_expired_reset_token_is_refused(client: AsyncClient, factory: Factory, database: Database) -> None:
    actor = await factory.customer(email="ada@example.com")
    await client.post(RESET, json={"email": "ada@example.com"})
    [token] = await reset_tokens_sent(database, "ada@example.com")
    async with database.write_session() as session, session.begin():
        await session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    response = await client.post(CONFIRM, json={"token": token, "new_password": NEW})

    assert_problem(response, 400, "invalid_reset_token")
    assert (await log_in(client, actor.user.username))["access_token"]


async def test_an_unknown_reset_token_is_refused(client: AsyncClient) -> None:
    response = await client.post(CONFIRM, json={"token": "x" * 43, "new_password": NEW})

    assert_problem(response, 400, "invalid_reset_token")


async def test_a_reset_token_is_taken_exactly_as_sent(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    # A token is a secret, kept verbatim like a password: one with spaces is another token.
    actor = await factory.customer(email="ada@example.com")
    await client.post(RESET, json={"email": " ada@example.com "})
    [token] = await reset_tokens_sent(database, "ada@example.com")

    padded = await client.post(CONFIRM, json={"token": f" {token}\n", "new_password": NEW})
    exact = await client.post(CONFIRM, json={"token": token, "new_password": NEW})

    assert_problem(padded, 400, "invalid_reset_token")
    assert exact.status_code == 204, exact.text
    assert (await log_in(client, actor.user.username, NEW))["access_token"]


async def test_a_weak_password_keeps_the_reset_token_usable(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    await factory.customer(email="ada@example.com")
    await client.post(RESET, json={"email": "ada@example.com"})
    [token] = await reset_tokens_sent(database, "ada@example.com")

    weak = await client.post(CONFIRM, json={"token": token, "new_password": "cookiemonster"})
    strong = await client.post(CONFIRM, json={"token": token, "new_password": NEW})

    assert_problem(weak, 422, "weak_password")
    assert strong.status_code == 204


async def test_a_completed_reset_voids_the_other_outstanding_tokens(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    await factory.customer(email="ada@example.com")
    await client.post(RESET, json={"email": "ada@example.com"})
    await client.post(RESET, json={"email": "ada@example.com"})
    first, second = await reset_tokens_sent(database, "ada@example.com")

    assert (await client.post(CONFIRM, json={"token": second, "new_password": NEW})).status_code == 204
    response = await client.post(CONFIRM, json={"token": first, "new_password": "another-long-passphrase"})

    assert_problem(response, 400, "invalid_reset_token")
