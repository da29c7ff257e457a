"""Parallel password guessing: the login limits bound how many passwords are
ever checked, however many guesses arrive at once (in-memory counters here;
tests/test_ratelimit_processes.py races two processes sharing Redis)."""

from __future__ import annotations

import asyncio

from httpx import Response

from tests.auth.conftest import LOGIN, ClientMaker
from tests.factories import PASSWORD, Factory
from tests.users.helpers import assert_problem

WRONG = "not-the-password-at-all"


def _checked(responses: list[Response]) -> list[Response]:
    """The responses whose password was checked: every answer but a refusal."""
    for response in responses:
        assert response.status_code in (200, 401, 429), response.text
    return [response for response in responses if response.status_code != 429]


async def test_100_parallel_guesses_for_one_account_check_no_more_passwords_than_the_limit(
    limited_client: ClientMaker, factory: Factory
) -> None:
    actor = await factory.customer()
    client = await limited_client()
    guesses = [WRONG] * 100
    guesses[77] = PASSWORD

    responses = await asyncio.gather(
        *(client.post(LOGIN, json={"username": actor.user.username, "password": guess}) for guess in guesses)
    )

    checked = _checked(list(responses))
    assert len(checked) <= 5
    assert_problem(responses[77], 429, "rate_limited")
    assert responses[77].headers["RateLimit-Policy"] == '"login-account";q=5;w=900'


async def test_150_parallel_failures_from_one_address_check_no_more_than_the_address_limit(
    limited_client: ClientMaker,
) -> None:
    client = await limited_client(rate_limit_login_account="1000/15 minutes")

    responses = await asyncio.gather(
        *(client.post(LOGIN, json={"username": f"nobody_{n}", "password": WRONG}) for n in range(150))
    )

    checked = _checked(list(responses))
    assert len(checked) == 100
    refused = [response for response in responses if response.status_code == 429]
    assert len(refused) == 50
    assert all(response.headers["RateLimit-Policy"] == '"login-address";q=100;w=900' for response in refused)


async def test_the_email_and_the_username_of_one_account_share_its_counter(
    limited_client: ClientMaker, factory: Factory
) -> None:
    actor = await factory.customer(email="hedy@example.com", username="hedy_l")
    client = await limited_client()

    for login in ["hedy_l", "hedy@example.com", "HEDY_L", "Hedy@Example.com", "hedy_l"]:
        response = await client.post(LOGIN, json={"username": login, "password": WRONG})
        assert response.status_code == 401, response.text

    by_email = await client.post(LOGIN, json={"username": "hedy@example.com", "password": PASSWORD})
    assert_problem(by_email, 429, "rate_limited")
    assert actor.id


async def test_successful_parallel_logins_are_not_refused_by_the_address_limit(
    limited_client: ClientMaker, factory: Factory
) -> None:
    actor = await factory.customer()
    client = await limited_client(rate_limit_login_address="3/15 minutes", rate_limit_login_account="3/15 minutes")

    # One at a time (a success gives its unit back): six successes in a row pass a limit of three.
    for _ in range(6):
        response = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})
        assert response.status_code == 200, response.text
