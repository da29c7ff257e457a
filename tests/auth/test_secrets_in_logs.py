"""Secrets never reach the logs: passwords, tokens, reset tokens and API keys."""

from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from storefront.config import Settings
from storefront.database import Database
from storefront.main import create_app
from tests.auth.conftest import LOGIN, bearer, refresh, reset_tokens_sent
from tests.factories import PASSWORD, Factory


async def test_no_secret_is_logged_at_info_level(
    settings: Settings, database: Database, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    actor = await factory.customer(email="ada@example.com")
    app = create_app(settings.model_copy(update={"log_level": "INFO"}))
    secrets: list[str] = [PASSWORD]
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            pair = (await client.post(LOGIN, json={"username": actor.user.username, "password": PASSWORD})).json()
            await client.post(LOGIN, json={"username": actor.user.username, "password": "wrong-" + PASSWORD})
            rotated = (await refresh(client, pair["refresh_token"])).json()
            key = (
                await client.post("/api/v1/auth/api-keys", json={"name": "k"}, headers=bearer(rotated["access_token"]))
            ).json()
            await client.get("/api/v1/users/me", headers={"X-API-Key": key["key"]})
            await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
            await refresh(client, pair["refresh_token"])  # a reuse, which ends the session
            [reset] = await reset_tokens_sent(database, "ada@example.com")
            await client.post(
                "/api/v1/auth/password-reset/confirm",
                json={"token": reset, "new_password": "violet-otter-marmalade-42"},
            )
    secrets += [pair["access_token"], pair["refresh_token"], rotated["refresh_token"], key["key"], reset]

    logged = capsys.readouterr()
    output = logged.out + logged.err
    assert "POST" in output or "request" in output  # something was logged
    for secret in secrets:
        assert secret not in output
