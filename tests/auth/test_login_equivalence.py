"""An unknown account and a wrong password look the same from outside: the same
answer, and the same work (one password hash verification each)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from storefront.auth import passwords
from tests.auth.conftest import LOGIN
from tests.factories import PASSWORD, Factory
from tests.users.helpers import without_request_id


class _CountingHasher:
    """Wraps the password hasher and counts the verifications it performs."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.verifications = 0

    def verify(self, *args: Any) -> Any:
        self.verifications += 1
        return self.hasher.verify(*args)

    def verify_and_update(self, *args: Any) -> Any:
        self.verifications += 1
        return self.hasher.verify_and_update(*args)

    def hash(self, *args: Any) -> Any:
        return self.hasher.hash(*args)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> _CountingHasher:
    counting = _CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/token", LOGIN])
async def test_unknown_account_and_wrong_password_answer_identically_for_one_hash_each(
    client: AsyncClient, factory: Factory, hasher: _CountingHasher, endpoint: str
) -> None:
    actor = await factory.customer(username="alive")
    attempts = {"unknown": "nobody_here", "wrong password": actor.user.username}
    answers = {}
    verifications = {}
    for case, username in attempts.items():
        before = hasher.verifications
        credentials = {"username": username, "password": PASSWORD + "!"}
        if endpoint == LOGIN:
            answers[case] = await client.post(LOGIN, json=credentials)
        else:
            answers[case] = await client.post(endpoint, data=credentials)
        verifications[case] = hasher.verifications - before

    unknown, wrong = answers["unknown"], answers["wrong password"]
    assert unknown.status_code == wrong.status_code == 401
    assert without_request_id(unknown.json()) == without_request_id(wrong.json())
    assert unknown.json()["request_id"] != wrong.json()["request_id"]
    ignored = {"x-request-id", "server-timing", "content-length", "date"}
    assert {k: v for k, v in unknown.headers.items() if k not in ignored} == {
        k: v for k, v in wrong.headers.items() if k not in ignored
    }
    assert verifications == {"unknown": 1, "wrong password": 1}


async def test_a_disabled_account_pays_for_one_hash_too(
    client: AsyncClient, factory: Factory, hasher: _CountingHasher
) -> None:
    await factory.customer(username="dormant", is_active=False)

    response = await client.post(LOGIN, json={"username": "dormant", "password": PASSWORD})

    assert response.status_code == 401
    assert hasher.verifications == 1


async def test_a_successful_login_verifies_once(client: AsyncClient, factory: Factory, hasher: _CountingHasher) -> None:
    actor = await factory.customer()

    response = await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})

    assert response.status_code == 200
    assert hasher.verifications == 1
