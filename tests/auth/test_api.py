"""Registering and logging in over HTTP: /auth/register, /auth/token and /auth/login."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from storefront.auth.passwords import CURRENT_HASHER
from storefront.database import Database
from storefront.models import Role, User
from tests.factories import PASSWORD, Factory
from tests.users.helpers import USER_FIELDS, assert_problem, set_user, users_in_db, without_request_id

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
LOGIN = "/api/v1/auth/login"
STRONG = "violet-otter-marmalade-42"


def registration(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "ada@example.com",
        "username": "ada_l",
        "password": STRONG,
        "full_name": "Ada Lovelace",
    } | overrides


# --- register -------------------------------------------------------------


async def test_register_creates_a_customer_and_answers_201_with_location(
    client: AsyncClient, database: Database
) -> None:
    response = await client.post(REGISTER, json=registration())

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["email"] == "ada@example.com"
    assert body["username"] == "ada_l"
    assert body["full_name"] == "Ada Lovelace"
    assert body["role"] == "customer"
    assert body["is_active"] is True
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    assert response.headers["Location"] == f"/api/v1/users/{body['id']}"
    [user] = await users_in_db(database)
    assert user.id == body["id"]
    assert user.role == Role.customer


async def test_register_never_shows_the_password_or_its_hash(client: AsyncClient, database: Database) -> None:
    response = await client.post(REGISTER, json=registration())

    assert response.status_code == 201
    [user] = await users_in_db(database)
    assert STRONG not in response.text
    assert user.password_hash not in response.text
    assert "password" not in response.text


async def test_register_stores_an_argon2id_hash_of_the_password(client: AsyncClient, database: Database) -> None:
    await client.post(REGISTER, json=registration())

    [user] = await users_in_db(database)
    assert user.password_hash.startswith("$argon2id$")
    assert PasswordHash((CURRENT_HASHER,)).verify(STRONG, user.password_hash)


async def test_registered_user_can_log_in(client: AsyncClient) -> None:
    await client.post(REGISTER, json=registration())

    response = await client.post(LOGIN, json={"username": "ada_l", "password": STRONG})

    assert response.status_code == 200, response.text


async def test_register_lowercases_the_email(client: AsyncClient) -> None:
    response = await client.post(REGISTER, json=registration(email="Ada.Lovelace@Example.COM"))

    assert response.status_code == 201
    assert response.json()["email"] == "ada.lovelace@example.com"


async def test_register_trims_the_email_and_full_name(client: AsyncClient, database: Database) -> None:
    # An address is stored as its identity key, which has no surrounding spaces; a
    # name is text like any other.
    response = await client.post(REGISTER, json=registration(email=" Ada@Example.com ", full_name="  Ada Lovelace\n"))

    assert response.status_code == 201, response.text
    assert (response.json()["email"], response.json()["full_name"]) == ("ada@example.com", "Ada Lovelace")
    [user] = await users_in_db(database)
    assert (user.email, user.full_name) == ("ada@example.com", "Ada Lovelace")


async def test_register_full_name_is_optional(client: AsyncClient) -> None:
    body = registration()
    del body["full_name"]

    response = await client.post(REGISTER, json=body)

    assert response.status_code == 201
    assert response.json()["full_name"] is None


@pytest.mark.parametrize("username", ["abc", "A" * 50, "Ada_Lovelace_1815", "___"])
async def test_register_accepts_usernames_matching_the_pattern(client: AsyncClient, username: str) -> None:
    response = await client.post(REGISTER, json=registration(username=username))

    assert response.status_code == 201, response.text
    assert response.json()["username"] == username


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 51, "ada-l", "ada l", "ada.l", "adä_l", "ada@l", "", " ada_l", "ada_l ", "\tada_l\n", "   "],
)
async def test_register_refuses_usernames_outside_the_pattern(
    client: AsyncClient, database: Database, username: str
) -> None:
    response = await client.post(REGISTER, json=registration(username=username))

    body = assert_problem(response, 422, "validation_error")
    assert any("username" in error["loc"] for error in body["errors"])
    assert await users_in_db(database) == []


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada@localhost", "ada@@example.com", ""])
async def test_register_refuses_invalid_emails(client: AsyncClient, database: Database, email: str) -> None:
    response = await client.post(REGISTER, json=registration(email=email))

    body = assert_problem(response, 422, "validation_error")
    assert any("email" in error["loc"] for error in body["errors"])
    assert await users_in_db(database) == []


@pytest.mark.parametrize("missing", ["email", "username", "password"])
async def test_register_requires_email_username_and_password(
    client: AsyncClient, database: Database, missing: str
) -> None:
    body = registration()
    del body[missing]

    response = await client.post(REGISTER, json=body)

    assert_problem(response, 422, "validation_error")
    assert await users_in_db(database) == []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("a1b2c3d4e5f", "at least 12 characters"),
        ("x" * 64 + "y" * 65, "at most 128 characters"),
        ("cookiemonster", "too common"),
        ("CookieMonster", "too common"),
        ("qqqqqqqqqqqqqqqq", "single character"),
    ],
)
async def test_register_refuses_weak_passwords_with_the_reason(
    client: AsyncClient, database: Database, password: str, reason: str
) -> None:
    response = await client.post(REGISTER, json=registration(password=password))

    body = assert_problem(response, 422, "weak_password")
    assert reason in body["detail"]
    assert await users_in_db(database) == []


@pytest.mark.parametrize("password", ["b" + "a1" * 5 + "c", "x" * 64 + "y" * 64])
async def test_register_accepts_passwords_of_12_and_128_characters(client: AsyncClient, password: str) -> None:
    assert len(password) in (12, 128)

    response = await client.post(REGISTER, json=registration(password=password))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"email": "lovelace.ada@example.com", "password": "lovelace.ada@example.com"}, "email address"),
        ({"email": "lovelace.ada@example.com", "password": "Lovelace.Ada"}, "email address"),
        ({"username": "ada_lovelace_1815", "password": "Ada_Lovelace_1815"}, "username"),
    ],
)
async def test_register_refuses_a_password_equal_to_the_email_or_username(
    client: AsyncClient, database: Database, fields: dict[str, str], reason: str
) -> None:
    response = await client.post(REGISTER, json=registration(**fields))

    body = assert_problem(response, 422, "weak_password")
    assert reason in body["detail"]
    assert await users_in_db(database) == []


@pytest.mark.parametrize(
    "password", ["  violet otter marmalade  ", "\tviolet otter marmalade", "violet otter marmalade\n"]
)
async def test_register_keeps_the_password_exactly_as_typed(
    client: AsyncClient, database: Database, password: str
) -> None:
    registered = await client.post(REGISTER, json=registration(password=password))

    assert registered.status_code == 201, registered.text
    [user] = await users_in_db(database)
    hasher = PasswordHash((CURRENT_HASHER,))
    assert hasher.verify(password, user.password_hash)
    assert not hasher.verify(password.strip(), user.password_hash)
    by_form = await client.post(TOKEN, data={"username": "ada_l", "password": password})
    by_json = await client.post(LOGIN, json={"username": "ada_l", "password": password})
    assert by_form.status_code == 200, by_form.text
    assert by_json.status_code == 200, by_json.text
    stripped_form = await client.post(TOKEN, data={"username": "ada_l", "password": password.strip()})
    stripped_json = await client.post(LOGIN, json={"username": "ada_l", "password": password.strip()})
    assert_problem(stripped_form, 401, "invalid_credentials")
    assert_problem(stripped_json, 401, "invalid_credentials")


@pytest.mark.parametrize("email", ["user1@example.com", "USER1@Example.com"])
async def test_register_refuses_an_email_taken_in_any_case(
    client: AsyncClient, factory: Factory, database: Database, email: str
) -> None:
    await factory.customer(email="user1@example.com", username="first")

    response = await client.post(REGISTER, json=registration(email=email))

    assert_problem(response, 409, "email_taken")
    assert len(await users_in_db(database)) == 1


@pytest.mark.parametrize("username", ["ada_l", "ADA_L", "Ada_L"])
async def test_register_refuses_a_username_taken_in_any_case(
    client: AsyncClient, factory: Factory, database: Database, username: str
) -> None:
    await factory.customer(username="ada_l")

    response = await client.post(REGISTER, json=registration(username=username))

    assert_problem(response, 409, "username_taken")
    assert len(await users_in_db(database)) == 1


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"is_active": False}, {"id": 7}, {"token_version": 3}, {"password_hash": "x"}],
)
async def test_register_refuses_fields_it_does_not_name(
    client: AsyncClient, database: Database, extra: dict[str, Any]
) -> None:
    response = await client.post(REGISTER, json=registration(**extra))

    body = assert_problem(response, 422, "validation_error")
    assert any(error["type"] == "extra_forbidden" for error in body["errors"])
    assert await users_in_db(database) == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (
            "email=ada%40example.com&username=ada_l&password=violet-otter-marmalade-42",
            "application/x-www-form-urlencoded",
        ),
        ('{"email": "ada@example.com", "username": "ada_l", "password": "violet-otter-marmalade-42"}', "text/plain"),
    ],
)
async def test_register_refuses_a_body_that_is_not_json(
    client: AsyncClient, database: Database, content: str, content_type: str
) -> None:
    response = await client.post(REGISTER, content=content, headers={"Content-Type": content_type})

    assert_problem(response, 415, "unsupported_media_type")
    assert await users_in_db(database) == []


# --- token and login ------------------------------------------------------


async def test_token_form_with_username_gives_a_working_token_pair(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(TOKEN, data={"username": actor.user.username, "password": PASSWORD})

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == actor.id


async def test_token_form_accepts_the_email_as_username(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(email="grace@example.com")

    response = await client.post(TOKEN, data={"username": "Grace@Example.com", "password": PASSWORD})

    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == actor.id


@pytest.mark.parametrize("field", ["username", "email"])
async def test_login_with_json_username_or_email(client: AsyncClient, factory: Factory, field: str) -> None:
    actor = await factory.customer(email="grace@example.com", username="grace_h")
    login = {"username": "GRACE_H", "email": "GRACE@example.com"}[field]

    response = await client.post(LOGIN, json={field: login, "password": PASSWORD})

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == actor.id


@pytest.mark.parametrize("login", [" grace_h", "grace_h\t", " grace@example.com "])
async def test_login_finds_the_account_whatever_spaces_surround_the_login(
    client: AsyncClient, factory: Factory, login: str
) -> None:
    actor = await factory.customer(email="grace@example.com", username="grace_h")
    field = "email" if "@" in login else "username"

    by_json = await client.post(LOGIN, json={field: login, "password": PASSWORD})
    by_form = await client.post(TOKEN, data={"username": login, "password": PASSWORD})

    for response in (by_json, by_form):
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["id"] == actor.id


async def _failed_logins(client: AsyncClient, factory: Factory, endpoint: str) -> dict[str, Any]:
    """The answers for an unknown account, a wrong password and a disabled account."""
    await factory.customer(username="alive")
    await factory.customer(username="disabled", is_active=False)
    attempts = {
        "unknown": ("nobody", PASSWORD),
        "wrong password": ("alive", PASSWORD + "!"),
        "disabled": ("disabled", PASSWORD),
    }
    answers = {}
    for case, (username, password) in attempts.items():
        credentials = {"username": username, "password": password}
        if endpoint == TOKEN:
            answers[case] = await client.post(TOKEN, data=credentials)
        else:
            answers[case] = await client.post(LOGIN, json=credentials)
    return answers


@pytest.mark.parametrize("endpoint", [TOKEN, LOGIN])
async def test_failed_logins_all_answer_the_same_401(client: AsyncClient, factory: Factory, endpoint: str) -> None:
    answers = await _failed_logins(client, factory, endpoint)

    bodies = []
    for response in answers.values():
        bodies.append(without_request_id(assert_problem(response, 401, "invalid_credentials")))
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "access_token" not in response.text
    assert bodies[0] == bodies[1] == bodies[2]


async def test_login_of_a_disabled_account_fails_even_with_the_right_password(
    client: AsyncClient, factory: Factory
) -> None:
    actor = await factory.customer(username="dormant")
    assert (await client.post(LOGIN, json={"username": "dormant", "password": PASSWORD})).status_code == 200

    await set_user(factory.database, actor.id, is_active=False)
    response = await client.post(LOGIN, json={"username": "dormant", "password": PASSWORD})

    assert_problem(response, 401, "invalid_credentials")


async def test_login_needs_username_or_email(client: AsyncClient) -> None:
    response = await client.post(LOGIN, json={"password": PASSWORD})

    assert_problem(response, 422, "validation_error")


async def test_login_refuses_unknown_fields(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD, "role": "admin"})

    assert_problem(response, 422, "validation_error")


async def test_login_refuses_a_body_that_is_not_json(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(LOGIN, data={"username": actor.user.username, "password": PASSWORD})

    assert_problem(response, 415, "unsupported_media_type")


async def test_token_form_needs_a_password(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.post(TOKEN, data={"username": actor.user.username})

    assert_problem(response, 422, "validation_error")


async def test_logging_in_does_not_change_the_account(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})

    user: User = await factory.reload(User, actor.id)
    assert user.password_hash == actor.user.password_hash
    assert user.version == actor.user.version


async def test_logging_in_upgrades_an_outdated_password_hash(client: AsyncClient, factory: Factory) -> None:
    outdated = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    actor = await factory.customer(password_hash=outdated)

    first = await client.post(TOKEN, data={"username": actor.user.username, "password": PASSWORD})
    second = await client.post(TOKEN, data={"username": actor.user.username, "password": PASSWORD})

    assert first.status_code == second.status_code == 200
    user: User = await factory.reload(User, actor.id)
    assert user.password_hash.startswith("$argon2id$")
    assert not CURRENT_HASHER.check_needs_rehash(user.password_hash)
