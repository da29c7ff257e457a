"""Who is calling: bearer tokens checked on every request, and roles enforced."""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from jwt.warnings import InsecureKeyLengthWarning

from storefront.config import Settings
from storefront.models import Role, User
from tests.factories import Actor, Factory
from tests.users.helpers import assert_problem, set_user, users_in_db

ME = "/api/v1/users/me"
USERS = "/api/v1/users"
INVALID_TOKEN = 'Bearer error="invalid_token"'


def claims(actor: Actor, **overrides: Any) -> dict[str, Any]:
    """The claims of an access token of `actor`'s login session, as the app signs them."""
    now = datetime.now(UTC)
    return {
        "sub": str(actor.id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": actor.session_id,
    } | overrides


def sign(settings: Settings, payload: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        # The test key is long enough for HS256, not for the HS512 an attacker might try.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key or settings.secret_key, algorithm=algorithm)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_invalid_token(response: Any) -> None:
    assert_problem(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


# --- bearer tokens --------------------------------------------------------


async def test_a_valid_token_identifies_the_caller(client: AsyncClient, factory: Factory, settings: Settings) -> None:
    actor = await factory.customer()

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor))))

    assert response.status_code == 200
    assert response.json()["id"] == actor.id


async def test_a_token_naming_no_login_session_is_invalid(
    client: AsyncClient, factory: Factory, settings: Settings
) -> None:
    actor = await factory.customer()
    payload = claims(actor)
    del payload["sid"]

    response = await client.get(ME, headers=bearer(sign(settings, payload)))

    assert_invalid_token(response)
    assert (await client.get(ME, headers=actor.headers)).status_code == 200


async def test_no_credentials_get_401_with_a_bearer_challenge(client: AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_another_authorization_scheme_counts_as_no_credentials(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    basic = base64.b64encode(f"{actor.user.username}:secret".encode()).decode()

    response = await client.get(ME, headers={"Authorization": f"Basic {basic}"})

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."])
async def test_garbage_tokens_are_invalid(client: AsyncClient, token: str) -> None:
    response = await client.get(ME, headers=bearer(token))

    assert_invalid_token(response)


async def test_an_expired_token_is_invalid(client: AsyncClient, factory: Factory, settings: Settings) -> None:
    actor = await factory.customer()
    past = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor, iat=past, exp=past))))

    assert_invalid_token(response)


async def test_a_token_signed_with_another_key_is_invalid(
    client: AsyncClient, factory: Factory, settings: Settings
) -> None:
    actor = await factory.customer()
    token = sign(settings, claims(actor), key="another-secret-key-that-is-long-enough-to-sign")

    response = await client.get(ME, headers=bearer(token))

    assert_invalid_token(response)


async def test_a_token_whose_claims_were_changed_is_invalid(client: AsyncClient, factory: Factory) -> None:
    victim = await factory.admin()
    attacker = await factory.customer()
    header, _, signature = attacker.token.split(".")
    forged = ".".join((header, _b64(claims(victim)), signature))

    assert (await client.get(ME, headers=attacker.headers)).status_code == 200
    response = await client.get(ME, headers=bearer(forged))

    assert_invalid_token(response)


async def test_a_token_whose_signature_was_changed_is_invalid(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    header, payload, signature = actor.token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    response = await client.get(ME, headers=bearer(f"{header}.{payload}.{flipped}"))

    assert_invalid_token(response)


async def test_an_unsigned_alg_none_token_is_invalid(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.admin()
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims(actor))}."

    response = await client.get(ME, headers=bearer(unsigned))

    assert_invalid_token(response)


async def test_a_token_with_another_algorithm_is_refused(
    client: AsyncClient, factory: Factory, settings: Settings
) -> None:
    actor = await factory.customer()

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor), algorithm="HS512")))

    assert_invalid_token(response)


@pytest.mark.parametrize("change", [{"typ": "refresh"}, {"sub": "not-a-number"}])
async def test_a_token_that_is_not_an_access_token_is_invalid(
    client: AsyncClient, factory: Factory, settings: Settings, change: dict[str, Any]
) -> None:
    actor = await factory.customer()

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor, **change))))

    assert_invalid_token(response)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti"])
async def test_a_token_missing_a_required_claim_is_invalid(
    client: AsyncClient, factory: Factory, settings: Settings, claim: str
) -> None:
    actor = await factory.customer()
    payload = claims(actor)
    del payload[claim]

    response = await client.get(ME, headers=bearer(sign(settings, payload)))

    assert_invalid_token(response)


async def test_a_token_of_a_user_that_does_not_exist_is_invalid(
    client: AsyncClient, factory: Factory, settings: Settings
) -> None:
    actor = await factory.customer()

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor, sub=str(actor.id + 1000)))))

    assert_invalid_token(response)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "1" * 40},
        {"sub": str(2**31)},
        {"sub": "0"},
        {"sub": "-1"},
        {"sub": 7},
        {"sub": "\u0661"},  # ARABIC-INDIC DIGIT ONE: a digit to str.isdigit, not an id
        {"sid": 10**40},
        {"sid": True},
        {"sid": "1"},
    ],
)
async def test_a_signed_token_with_out_of_range_claims_is_invalid_not_an_error(
    client: AsyncClient, factory: Factory, settings: Settings, overrides: dict[str, Any]
) -> None:
    actor = await factory.customer()

    response = await client.get(ME, headers=bearer(sign(settings, claims(actor, **overrides))))

    assert_invalid_token(response)


async def test_a_deactivated_users_token_stops_working(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()
    assert (await client.get(ME, headers=actor.headers)).status_code == 200

    # Only the flag changes, the session stays live: the check must read the flag too.
    await set_user(factory.database, actor.id, is_active=False)
    response = await client.get(ME, headers=actor.headers)

    assert_invalid_token(response)


# --- roles ----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_listing_users_needs_the_admin_role(client: AsyncClient, factory: Factory, role: Role) -> None:
    actor = await factory.user(role)

    response = await client.get(USERS, headers=actor.headers)

    assert_problem(response, 403, "forbidden")


async def test_listing_users_without_credentials_is_401(client: AsyncClient) -> None:
    response = await client.get(USERS)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_creating_users_needs_the_admin_role(client: AsyncClient, factory: Factory, role: Role) -> None:
    actor = await factory.user(role)

    response = await client.post(
        USERS,
        json={"email": "new@example.com", "username": "newbie", "password": "violet-otter-marmalade-42"},
        headers=actor.headers,
    )

    assert_problem(response, 403, "forbidden")
    assert [user.id for user in await users_in_db(factory.database)] == [actor.id]


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_changing_a_user_needs_the_admin_role_even_for_oneself(
    client: AsyncClient, factory: Factory, role: Role
) -> None:
    actor = await factory.user(role)

    response = await client.patch(f"{USERS}/{actor.id}", json={"role": "admin"}, headers=actor.headers)

    assert_problem(response, 403, "forbidden")
    user: User = await factory.reload(User, actor.id)
    assert user.role == role


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_deleting_a_user_needs_the_admin_role(client: AsyncClient, factory: Factory, role: Role) -> None:
    actor = await factory.user(role)
    other = await factory.customer()

    response = await client.delete(f"{USERS}/{other.id}", headers=actor.headers)

    assert_problem(response, 403, "forbidden")
    user: User = await factory.reload(User, other.id)
    assert user.is_active
    assert user.email == other.user.email


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_another_users_record_is_404_like_a_missing_one(
    client: AsyncClient, factory: Factory, role: Role
) -> None:
    actor = await factory.user(role)
    other = await factory.customer()

    hidden = await client.get(f"{USERS}/{other.id}", headers=actor.headers)
    missing = await client.get(f"{USERS}/{other.id + 1000}", headers=actor.headers)

    hidden_body = assert_problem(hidden, 404, "user_not_found")
    missing_body = assert_problem(missing, 404, "user_not_found")
    assert hidden_body["detail"] == missing_body["detail"]
    assert "ETag" not in hidden.headers


async def test_a_role_change_takes_effect_on_the_next_request(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.admin()
    assert (await client.get(USERS, headers=actor.headers)).status_code == 200

    await set_user(factory.database, actor.id, role=Role.customer)
    response = await client.get(USERS, headers=actor.headers)

    assert_problem(response, 403, "forbidden")
