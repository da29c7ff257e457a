"""Abuse limits: 429 `rate_limited` with Retry-After and the RateLimit headers.

The suite turns the limits off; these tests turn them on in their own app.
"""

from __future__ import annotations

import dataclasses

import pytest
from httpx import AsyncClient, Response

from storefront.config import Settings
from storefront.database import Database
from tests.auth.conftest import LOGIN, ClientMaker, bearer, log_in, refresh
from tests.factories import PASSWORD, Factory
from tests.users.helpers import assert_problem, without_request_id

REGISTER = "/api/v1/auth/register"
RESET = "/api/v1/auth/password-reset"


async def _fail(client: AsyncClient, username: str) -> Response:
    return await client.post(LOGIN, json={"username": username, "password": "not-the-password"})


def assert_limited(response: Response, policy: str) -> None:
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Policy"].startswith(f'"{policy}";q=')
    assert response.headers["RateLimit"].startswith(f'"{policy}";r=0;t=')


async def test_repeated_failed_logins_for_one_account_get_429(limited_client: ClientMaker, factory: Factory) -> None:
    actor = await factory.customer()
    client = await limited_client()
    other_address = await limited_client(address="10.0.0.2")

    failures = [await _fail(client, actor.user.username) for _ in range(5)]
    limited = await _fail(other_address, actor.user.username)
    right_password = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})

    assert [r.status_code for r in failures] == [401] * 5
    assert_limited(limited, "login-account")
    assert limited.headers["RateLimit-Policy"] == '"login-account";q=5;w=900'
    # Locked means locked: the right password waits too, and gets no token.
    assert_limited(right_password, "login-account")
    assert "access_token" not in right_password.text
    # Another account is not affected.
    other = await factory.customer()
    assert (await log_in(client, other.user.username))["access_token"]


async def test_the_account_counter_ignores_case_and_spaces(limited_client: ClientMaker, factory: Factory) -> None:
    await factory.customer(username="grace_h")
    client = await limited_client()

    for login in ["grace_h", "GRACE_H", " Grace_H ", "grace_H", "gRace_h"]:
        assert (await _fail(client, login)).status_code == 401

    assert_limited(await _fail(client, "grace_h"), "login-account")


async def test_successful_logins_count_toward_no_limit(limited_client: ClientMaker, factory: Factory) -> None:
    actor = await factory.customer()
    client = await limited_client(rate_limit_login_address="3/15 minutes")

    for _ in range(6):
        assert (await log_in(client, actor.user.username))["access_token"]


async def test_failed_logins_from_one_address_get_429_across_accounts(
    limited_client: ClientMaker, factory: Factory
) -> None:
    client = await limited_client(rate_limit_login_address="3/15 minutes")
    elsewhere = await limited_client(address="10.0.0.2", rate_limit_login_address="3/15 minutes")
    actor = await factory.customer()

    for n in range(3):
        assert (await _fail(client, f"nobody{n}")).status_code == 401

    assert_limited(await _fail(client, "somebody-else"), "login-address")
    assert (await log_in(elsewhere, actor.user.username))["access_token"]


async def test_the_429_does_not_tell_unknown_accounts_from_known_ones(
    limited_client: ClientMaker, factory: Factory
) -> None:
    actor = await factory.customer()
    client = await limited_client()
    for login in (actor.user.username, "nobody"):
        for _ in range(5):
            await _fail(client, login)

    known, unknown = await _fail(client, actor.user.username), await _fail(client, "nobody")

    assert known.status_code == unknown.status_code == 429
    assert without_request_id(known.json()) == without_request_id(unknown.json())


async def test_registrations_per_address_are_limited(limited_client: ClientMaker) -> None:
    client = await limited_client(rate_limit_register="2/hour")
    elsewhere = await limited_client(address="10.0.0.2", rate_limit_register="2/hour")

    def body(n: int) -> dict[str, str]:
        return {"email": f"new{n}@example.com", "username": f"new_{n}", "password": "violet-otter-marmalade-42"}

    answers = [(await client.post(REGISTER, json=body(n))).status_code for n in range(2)]
    limited = await client.post(REGISTER, json=body(3))

    assert answers == [201, 201]
    assert_limited(limited, "register")
    assert (await elsewhere.post(REGISTER, json=body(4))).status_code == 201


async def test_password_reset_requests_are_limited_per_account_and_per_address(
    limited_client: ClientMaker, factory: Factory
) -> None:
    client = await limited_client(rate_limit_password_reset="2/hour")
    elsewhere = await limited_client(address="10.0.0.2", rate_limit_password_reset="2/hour")
    await factory.customer(email="ada@example.com")

    first = [(await client.post(RESET, json={"email": "ada@example.com"})).status_code for _ in range(2)]
    same_account = await elsewhere.post(RESET, json={"email": "ada@example.com"})
    same_address = await client.post(RESET, json={"email": "other@example.com"})

    assert first == [202, 202]
    assert_limited(same_account, "password-reset")
    assert_limited(same_address, "password-reset")


async def test_refreshes_are_limited(limited_client: ClientMaker, factory: Factory) -> None:
    actor = await factory.customer()
    client = await limited_client(rate_limit_refresh="2/minute")
    pair = await log_in(client, actor.user.username)

    for _ in range(2):
        answer = await refresh(client, pair["refresh_token"])
        assert answer.status_code == 200, answer.text
        pair = answer.json()

    assert_limited(await refresh(client, pair["refresh_token"]), "refresh")


async def test_refreshes_are_limited_per_account_across_addresses(
    limited_client: ClientMaker, factory: Factory
) -> None:
    actor = await factory.customer()
    clients = [await limited_client(address=f"10.0.1.{n}", rate_limit_refresh="2/minute") for n in range(3)]
    pair = await log_in(clients[0], actor.user.username)

    for client in clients[:2]:
        pair = (await refresh(client, pair["refresh_token"])).json()

    assert_limited(await refresh(clients[2], pair["refresh_token"]), "refresh")


async def test_the_general_limit_is_off_unless_set(limited_client: ClientMaker) -> None:
    client = await limited_client()

    answers = [(await client.get("/api/v1/products")).status_code for _ in range(30)]

    assert answers == [200] * 30


async def test_the_general_limit_counts_per_address_for_anonymous_callers(limited_client: ClientMaker) -> None:
    client = await limited_client(rate_limit_default="3/minute")
    elsewhere = await limited_client(address="10.0.0.2", rate_limit_default="3/minute")

    answers = [(await client.get("/api/v1/products")).status_code for _ in range(3)]
    limited = await client.get("/api/v1/products")

    assert answers == [200] * 3
    assert_limited(limited, "default")
    assert (await elsewhere.get("/api/v1/products")).status_code == 200
    assert (await client.get("/health")).status_code == 200  # operations are never limited


async def test_the_general_limit_counts_per_user_for_bearer_callers(
    limited_client: ClientMaker, factory: Factory
) -> None:
    first, second = await factory.customer(), await factory.customer()
    client = await limited_client(rate_limit_default="3/minute")

    answers = [(await client.get("/api/v1/users/me", headers=first.headers)).status_code for _ in range(3)]
    limited = await client.get("/api/v1/users/me", headers=first.headers)
    other_user = await client.get("/api/v1/users/me", headers=second.headers)

    assert answers == [200] * 3
    assert_limited(limited, "default")
    assert other_user.status_code == 200


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/token", LOGIN])
async def test_limits_apply_to_both_login_endpoints(
    limited_client: ClientMaker, factory: Factory, endpoint: str
) -> None:
    actor = await factory.customer()
    client = await limited_client(rate_limit_login_account="2/15 minutes")
    credentials = {"username": actor.user.username, "password": "not-the-password"}

    async def attempt() -> Response:
        if endpoint == LOGIN:
            return await client.post(LOGIN, json=credentials)
        return await client.post(endpoint, data=credentials)

    assert [(await attempt()).status_code for _ in range(2)] == [401, 401]
    assert_limited(await attempt(), "login-account")


async def test_limits_are_off_when_disabled(client: AsyncClient, factory: Factory) -> None:
    actor = await factory.customer()

    answers = [(await _fail(client, actor.user.username)).status_code for _ in range(8)]

    assert answers == [401] * 8
    assert (await client.get("/api/v1/users/me", headers=bearer(actor.token))).status_code == 200


async def test_an_unreachable_limit_store_lets_requests_through(settings: Settings, database: Database) -> None:
    """Redis down must not take logins down: limits fail open (and log it)."""
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from storefront.kit.ratelimit import RateLimiter
    from storefront.main import create_app

    down = settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_login_account": "1/hour"})
    app = create_app(down)
    # The limiter's store is a Redis nobody answers at; the rest of the app is as configured.
    limiter = RateLimiter(down.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    app.state.context = dataclasses.replace(app.state.context, rate_limiter=limiter)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app, raise_app_exceptions=False), base_url="http://test"
        ) as client,
    ):
        statuses = [
            (
                await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password"})
            ).status_code
            for _ in range(3)
        ]
    assert statuses == [401, 401, 401]


async def test_the_general_limit_also_counts_cached_product_reads(
    limited_client: ClientMaker, factory: Factory
) -> None:
    product = await factory.product()
    client = await limited_client(rate_limit_default="3/minute")

    # The first read fills the product cache; the next two are answered from it.
    answers = [(await client.get(f"/api/v1/products/{product.id}")).status_code for _ in range(3)]
    limited = await client.get(f"/api/v1/products/{product.id}")
    listed = await client.get("/api/v1/products")

    assert answers == [200] * 3
    assert_limited(limited, "default")
    assert_limited(listed, "default")
