"""The users API: one's own account (/users/me) and the admin's view of everyone."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient

from storefront.models import Role, User
from tests.factories import PASSWORD, Actor, Factory
from tests.users.helpers import USER_FIELDS, assert_problem, users_in_db

ME = "/api/v1/users/me"
USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
STRONG = "violet-otter-marmalade-42"


async def log_in(client: AsyncClient, login: str, password: str = PASSWORD) -> int:
    response = await client.post(LOGIN, json={"username": login, "password": password})
    return response.status_code


# --- /users/me ------------------------------------------------------------


async def test_me_shows_the_callers_account_without_secrets(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(full_name="Ada Lovelace")

    response = await client.get(ME, headers=actor.headers)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["id"] == actor.id
    assert body["email"] == actor.user.email
    assert body["full_name"] == "Ada Lovelace"
    assert body["role"] == "customer"
    assert actor.user.password_hash not in response.text


async def test_me_needs_credentials(client: AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_patch_me_changes_name_email_and_username(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.patch(
        ME,
        json={"full_name": "Grace Hopper", "email": "Grace@Example.com", "username": "grace_h"},
        headers=actor.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "grace@example.com"
    user: User = await factory.reload(User, actor.id)
    assert (user.full_name, user.email, user.username) == ("Grace Hopper", "grace@example.com", "grace_h")
    assert await log_in(client, "grace_h") == 200


async def test_patch_me_changes_only_what_was_sent(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(full_name="Ada Lovelace")

    response = await client.patch(ME, json={"username": "countess"}, headers=actor.headers)

    assert response.status_code == 200
    user: User = await factory.reload(User, actor.id)
    assert user.username == "countess"
    assert user.full_name == "Ada Lovelace"
    assert user.email == actor.user.email


async def test_patch_me_may_clear_the_full_name(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(full_name="Ada Lovelace")

    response = await client.patch(ME, json={"full_name": None}, headers=actor.headers)

    assert response.status_code == 200
    user: User = await factory.reload(User, actor.id)
    assert user.full_name is None


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"is_active": False},
        {"id": 99},
        {"password": STRONG},
        {"password_hash": "x"},
        {"token_version": 0},
        {"full_name": "Ada", "role": "staff"},
    ],
)
async def test_patch_me_refuses_any_other_field(client: AsyncClient, factory: Factory, body: dict[str, Any]) -> None:
    actor = await factory.customer(full_name="Unchanged")

    response = await client.patch(ME, json=body, headers=actor.headers)

    assert_problem(response, 422, "validation_error")
    user: User = await factory.reload(User, actor.id)
    assert (user.role, user.is_active, user.full_name, user.version) == (Role.customer, True, "Unchanged", 1)


@pytest.mark.parametrize(
    "body",
    [{"email": None}, {"username": None}, {"email": "nope"}, {"username": "no way"}, {"username": " padded "}],
)
async def test_patch_me_refuses_invalid_values(client: AsyncClient, factory: Factory, body: dict[str, Any]) -> None:
    actor = await factory.customer()

    response = await client.patch(ME, json=body, headers=actor.headers)

    assert_problem(response, 422, "validation_error")
    user: User = await factory.reload(User, actor.id)
    assert (user.email, user.username) == (actor.user.email, actor.user.username)


async def test_patch_me_refuses_an_email_taken_in_any_case(client: AsyncClient, factory: Factory) -> None:
    await factory.customer(email="taken@example.com")
    actor = await factory.customer()

    response = await client.patch(ME, json={"email": "TAKEN@example.com"}, headers=actor.headers)

    assert_problem(response, 409, "email_taken")
    user: User = await factory.reload(User, actor.id)
    assert user.email == actor.user.email


async def test_patch_me_refuses_a_username_taken_in_any_case(client: AsyncClient, factory: Factory) -> None:
    await factory.customer(username="taken")
    actor = await factory.customer()

    response = await client.patch(ME, json={"username": "Taken"}, headers=actor.headers)

    assert_problem(response, 409, "username_taken")
    user: User = await factory.reload(User, actor.id)
    assert user.username == actor.user.username


async def test_patch_me_may_change_the_case_of_ones_own_username(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer(username="ada_l")

    response = await client.patch(ME, json={"username": "Ada_L", "email": actor.user.email}, headers=actor.headers)

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "Ada_L"


async def test_patch_me_refuses_a_body_that_is_not_json(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.patch(ME, data={"full_name": "Form Data"}, headers=actor.headers)

    assert_problem(response, 415, "unsupported_media_type")
    user: User = await factory.reload(User, actor.id)
    assert user.full_name == actor.user.full_name


async def test_patch_me_honours_if_match(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    etag = (await client.get(ME, headers=actor.headers)).headers["ETag"]
    await client.patch(ME, json={"full_name": "First"}, headers=actor.headers)

    stale = await client.patch(ME, json={"full_name": "Second"}, headers=actor.headers | {"If-Match": etag})

    assert_problem(stale, 412, "precondition_failed")
    user: User = await factory.reload(User, actor.id)
    assert user.full_name == "First"


# --- GET /users (admin) ---------------------------------------------------


async def _people(factory: Factory) -> dict[str, Actor]:
    return {
        "admin": await factory.admin(email="boss@example.com", username="boss"),
        "staff": await factory.staff(email="clerk@shop.test.com", username="clerk"),
        "ada": await factory.customer(email="ada@example.com", username="Ada_L"),
        "bob": await factory.customer(email="bob@other.org", username="bobby", is_active=False),
    }


def _ids(response: Any) -> list[int]:
    return [user["id"] for user in response.json()]


def _links(response: Any) -> dict[str, int]:
    """Each `Link` relation and the `skip` it points at (all with the page's `limit`)."""
    skips = {}
    for rel, link in response.links.items():
        query = parse_qs(urlsplit(link["url"]).query)
        assert query["limit"] == ["2"]
        skips[rel] = int(query["skip"][0])
    return skips


async def test_admin_lists_every_user_without_secrets(client: AsyncClient, factory: Factory) -> None:
    people = await _people(factory)

    response = await client.get(USERS, headers=people["admin"].headers)

    assert response.status_code == 200
    assert _ids(response) == sorted(actor.id for actor in people.values())
    assert response.headers["X-Total-Count"] == "4"
    assert all(set(user) == USER_FIELDS for user in response.json())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"role": "customer"}, ["ada", "bob"]),
        ({"role": "staff"}, ["staff"]),
        ({"is_active": "false"}, ["bob"]),
        ({"is_active": "true", "role": "customer"}, ["ada"]),
        ({"q": "EXAMPLE.com"}, ["admin", "ada"]),
        ({"q": "ada_"}, ["ada"]),
        ({"q": "b_b"}, []),
        ({"q": "bob"}, ["bob"]),
        ({"q": "%"}, []),
        ({"q": "nobody"}, []),
    ],
)
async def test_admin_filters_users(
    client: AsyncClient, factory: Factory, query: dict[str, str], expected: list[str]
) -> None:
    people = await _people(factory)

    response = await client.get(USERS, params=query, headers=people["admin"].headers)

    assert response.status_code == 200
    assert _ids(response) == [people[name].id for name in expected]
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("email", ["ada", "bob", "admin", "staff"]),
        ("-email", ["staff", "admin", "bob", "ada"]),
        ("-id", ["bob", "ada", "staff", "admin"]),
    ],
)
async def test_admin_sorts_users(client: AsyncClient, factory: Factory, sort: str, expected: list[str]) -> None:
    people = await _people(factory)

    response = await client.get(USERS, params={"sort": sort}, headers=people["admin"].headers)

    assert response.status_code == 200
    assert _ids(response) == [people[name].id for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "password_hash"},
        {"sort": "-token_version"},
        {"sort": "email,id"},
        {"limit": "0"},
        {"limit": "101"},
        {"skip": "-1"},
        {"role": "superuser"},
        {"is_active": "maybe"},
    ],
)
async def test_admin_list_refuses_bad_parameters(client: AsyncClient, factory: Factory, query: dict[str, str]) -> None:
    admin = await factory.admin()

    response = await client.get(USERS, params=query, headers=admin.headers)

    assert_problem(response, 422, "validation_error")


async def test_admin_pages_through_users(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    others = [await factory.customer() for _ in range(4)]
    everyone = [admin.id, *(actor.id for actor in others)]

    first = await client.get(USERS, params={"limit": 2}, headers=admin.headers)
    middle = await client.get(USERS, params={"limit": 2, "skip": 2}, headers=admin.headers)
    last = await client.get(USERS, params={"limit": 2, "skip": 4}, headers=admin.headers)

    assert _ids(first) + _ids(middle) + _ids(last) == everyone
    assert {page.headers["X-Total-Count"] for page in (first, middle, last)} == {"5"}
    assert _links(first) == {"first": 0, "next": 2, "last": 4}
    assert _links(middle) == {"first": 0, "prev": 0, "next": 4, "last": 4}
    assert _links(last) == {"first": 0, "prev": 2, "last": 4}


async def test_admin_list_follows_its_own_next_links(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    others = [await factory.customer() for _ in range(2)]
    seen: list[int] = []

    url: str | None = f"{USERS}?role=customer&sort=-id&limit=1"
    while url is not None:
        response = await client.get(url, headers=admin.headers)
        seen += _ids(response)
        url = response.links.get("next", {}).get("url")

    assert seen == [others[1].id, others[0].id]


# --- POST /users (admin) --------------------------------------------------


async def test_admin_creates_a_user_with_a_role(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.post(
        USERS,
        json={"email": "Clerk@Example.com", "username": "clerk", "password": STRONG, "role": "staff"},
        headers=admin.headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert (body["role"], body["email"], body["is_active"]) == ("staff", "clerk@example.com", True)
    assert response.headers["Location"] == f"{USERS}/{body['id']}"
    assert "ETag" in response.headers
    user: User = await factory.reload(User, body["id"])
    assert user.role == Role.staff
    assert await log_in(client, "clerk", STRONG) == 200


async def test_admin_created_users_are_customers_by_default(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.post(
        USERS, json={"email": "c@example.com", "username": "cust", "password": STRONG}, headers=admin.headers
    )

    assert response.status_code == 201
    assert response.json()["role"] == "customer"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"password": "short"}, 422, "weak_password"),
        ({"password": "cookiemonster"}, 422, "weak_password"),
        ({"username": "Boss"}, 409, "username_taken"),
        ({"email": "BOSS@example.com"}, 409, "email_taken"),
        ({"role": "owner"}, 422, "validation_error"),
        ({"is_active": False}, 422, "validation_error"),
        ({"id": 1}, 422, "validation_error"),
    ],
)
async def test_admin_create_refuses_bad_users_and_creates_nothing(
    client: AsyncClient, factory: Factory, body: dict[str, Any], status: int, code: str
) -> None:
    admin = await factory.admin(email="boss@example.com", username="boss")
    new = {"email": "new@example.com", "username": "newbie", "password": STRONG} | body

    response = await client.post(USERS, json=new, headers=admin.headers)

    assert_problem(response, status, code)
    assert [user.id for user in await users_in_db(factory.database)] == [admin.id]


# --- GET /users/{id} ------------------------------------------------------


async def test_admin_reads_any_user_with_an_etag(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()

    response = await client.get(f"{USERS}/{other.id}", headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["id"] == other.id
    assert response.headers["ETag"].startswith('"')


async def test_a_user_reads_their_own_record(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    response = await client.get(f"{USERS}/{actor.id}", headers=actor.headers)

    assert response.status_code == 200
    assert response.json()["id"] == actor.id


async def test_admin_reading_a_missing_user_gets_404(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.get(f"{USERS}/{admin.id + 1000}", headers=admin.headers)

    assert_problem(response, 404, "user_not_found")


@pytest.mark.parametrize("user_id", ["0", "-1", "abc", str(2**31)])
async def test_user_ids_must_be_positive_integers(client: AsyncClient, factory: Factory, user_id: str) -> None:
    admin = await factory.admin()

    response = await client.get(f"{USERS}/{user_id}", headers=admin.headers)

    assert_problem(response, 422, "validation_error")


async def test_if_none_match_gives_304_until_the_user_changes(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"
    etag = (await client.get(url, headers=admin.headers)).headers["ETag"]

    cached = await client.get(url, headers=admin.headers | {"If-None-Match": etag})
    await client.patch(url, json={"full_name": "Changed"}, headers=admin.headers)
    changed = await client.get(url, headers=admin.headers | {"If-None-Match": etag})

    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == etag
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["full_name"] == "Changed"


# --- PATCH /users/{id} (admin) --------------------------------------------


async def test_admin_changes_role_and_details(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()

    response = await client.patch(
        f"{USERS}/{other.id}",
        json={"role": "staff", "full_name": "Promoted", "username": "promoted", "email": "p@example.com"},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "staff"
    user: User = await factory.reload(User, other.id)
    assert (user.role, user.full_name, user.username, user.email) == (
        Role.staff,
        "Promoted",
        "promoted",
        "p@example.com",
    )
    me = await client.get(ME, headers=other.headers)
    assert me.status_code == 200
    assert me.json()["role"] == "staff"


async def test_patch_answers_with_the_new_etag(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"
    before = (await client.get(url, headers=admin.headers)).headers["ETag"]

    patched = await client.patch(url, json={"full_name": "New"}, headers=admin.headers | {"If-Match": before})
    after = (await client.get(url, headers=admin.headers)).headers["ETag"]

    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] == after != before


async def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer(full_name="Original")
    url = f"{USERS}/{other.id}"
    stale = (await client.get(url, headers=admin.headers)).headers["ETag"]
    await client.patch(url, json={"full_name": "Someone else's edit"}, headers=admin.headers)

    response = await client.patch(
        url, json={"role": "admin", "is_active": False}, headers=admin.headers | {"If-Match": stale}
    )

    assert_problem(response, 412, "precondition_failed")
    user: User = await factory.reload(User, other.id)
    assert (user.role, user.is_active, user.full_name) == (Role.customer, True, "Someone else's edit")
    assert (await client.get(ME, headers=other.headers)).status_code == 200


async def test_deactivating_a_user_ends_their_sessions_and_logins(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()

    response = await client.patch(f"{USERS}/{other.id}", json={"is_active": False}, headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert_problem(await client.get(ME, headers=other.headers), 401, "invalid_token")
    assert await log_in(client, other.user.username) == 401


async def test_reactivating_lets_a_user_log_in_again_but_old_tokens_stay_dead(
    client: AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"
    await client.patch(url, json={"is_active": False}, headers=admin.headers)

    response = await client.patch(url, json={"is_active": True}, headers=admin.headers)

    assert response.status_code == 200
    assert await log_in(client, other.user.username) == 200
    assert_problem(await client.get(ME, headers=other.headers), 401, "invalid_token")


@pytest.mark.parametrize(
    "body",
    [{"password": STRONG}, {"token_version": 0}, {"role": None}, {"is_active": None}, {"role": "root"}],
)
async def test_admin_patch_refuses_bad_fields(client: AsyncClient, factory: Factory, body: dict[str, Any]) -> None:
    admin = await factory.admin()
    other = await factory.customer()

    response = await client.patch(f"{USERS}/{other.id}", json=body, headers=admin.headers)

    assert_problem(response, 422, "validation_error")
    user: User = await factory.reload(User, other.id)
    assert (user.role, user.is_active, user.version) == (Role.customer, True, 1)


async def test_admin_patch_refuses_a_taken_username(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin(username="boss")
    other = await factory.customer()

    response = await client.patch(f"{USERS}/{other.id}", json={"username": "BOSS"}, headers=admin.headers)

    assert_problem(response, 409, "username_taken")


async def test_admin_patch_of_a_missing_user_is_404(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.patch(f"{USERS}/{admin.id + 1000}", json={"full_name": "X"}, headers=admin.headers)

    assert_problem(response, 404, "user_not_found")


# --- DELETE /users/{id} (admin) -------------------------------------------


async def test_delete_deactivates_and_erases_personal_data(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer(email="gone@example.com", username="gone", full_name="Gone Person")

    response = await client.delete(f"{USERS}/{other.id}", headers=admin.headers)

    assert response.status_code == 204
    assert response.content == b""
    user: User = await factory.reload(User, other.id)
    assert user.is_active is False
    assert user.full_name is None
    assert "gone" not in user.email
    assert "gone" not in user.username.lower()
    assert user.password_hash != other.user.password_hash


async def test_a_deleted_user_can_neither_use_a_token_nor_log_in(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer(email="gone@example.com", username="gone")
    await client.delete(f"{USERS}/{other.id}", headers=admin.headers)
    erased = (await client.get(f"{USERS}/{other.id}", headers=admin.headers)).json()

    assert_problem(await client.get(ME, headers=other.headers), 401, "invalid_token")
    for login in ("gone", "gone@example.com", erased["username"], erased["email"]):
        assert await log_in(client, login) == 401
        assert await log_in(client, login, "!") == 401


async def test_a_deleted_users_email_and_username_are_free_again(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer(email="gone@example.com", username="gone")
    await client.delete(f"{USERS}/{other.id}", headers=admin.headers)

    response = await client.post(
        "/api/v1/auth/register", json={"email": "gone@example.com", "username": "gone", "password": STRONG}
    )

    assert response.status_code == 201, response.text
    assert response.json()["id"] != other.id


async def test_erasing_never_collides_with_a_live_username(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    lookalike = await factory.customer(username=f"deleted_{other.id}")

    response = await client.delete(f"{USERS}/{other.id}", headers=admin.headers)

    assert response.status_code == 204, response.text
    user: User = await factory.reload(User, lookalike.id)
    assert user.username == f"deleted_{other.id}"
    assert await log_in(client, user.username) == 200


async def test_two_erased_users_do_not_collide(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    first = await factory.customer()
    second = await factory.customer()

    responses = [await client.delete(f"{USERS}/{actor.id}", headers=admin.headers) for actor in (first, second)]

    assert [response.status_code for response in responses] == [204, 204]


async def test_delete_with_a_stale_if_match_is_412_and_erases_nothing(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    other = await factory.customer()
    url = f"{USERS}/{other.id}"
    stale = (await client.get(url, headers=admin.headers)).headers["ETag"]
    await client.patch(url, json={"full_name": "Edited"}, headers=admin.headers)

    response = await client.delete(url, headers=admin.headers | {"If-Match": stale})

    assert_problem(response, 412, "precondition_failed")
    user: User = await factory.reload(User, other.id)
    assert (user.is_active, user.email) == (True, other.user.email)


async def test_delete_of_a_missing_user_is_404(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.delete(f"{USERS}/{admin.id + 1000}", headers=admin.headers)

    assert_problem(response, 404, "user_not_found")


# --- sessions end on deactivation -------------------------------------------


async def test_deactivating_a_user_ends_their_login_sessions_and_refresh_tokens(
    client: AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    actor = await factory.customer()
    login = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})
    pair = login.json()
    session_headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert (await client.get(ME, headers=session_headers)).status_code == 200

    response = await client.patch(f"{USERS}/{actor.id}", json={"is_active": False}, headers=admin.headers)

    assert response.status_code == 200
    assert_problem(await client.get(ME, headers=session_headers), 401, "invalid_token")
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(refreshed, 401, "invalid_refresh_token")
