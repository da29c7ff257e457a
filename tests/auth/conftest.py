"""Helpers for the session, password and API-key tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from storefront.config import Settings
from storefront.database import Database
from storefront.main import create_app
from storefront.models import AuthSession, Email
from tests.factories import PASSWORD, Actor

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def log_in(client: AsyncClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """A fresh session's token pair."""
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


async def refresh(client: AsyncClient, refresh_token: str) -> Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def sessions_in_db(database: Database, *, excluding: Actor | None = None) -> list[AuthSession]:
    """The stored login sessions, oldest first, but the one the factory started for `excluding`."""
    query = select(AuthSession).order_by(AuthSession.id)
    if excluding is not None:
        query = query.where(AuthSession.id != excluding.session_id)
    async with database.read_session() as session:
        return list((await session.scalars(query)).all())


async def reset_tokens_sent(database: Database, to: str) -> list[str]:
    """The tokens of the password-reset emails queued for `to`, oldest first."""
    async with database.read_session() as session:
        emails = await session.scalars(select(Email).where(Email.kind == "password_reset", Email.to == to))
        bodies = [email.body_text for email in emails]
    return [match for body in bodies for match in re.findall(r"^([A-Za-z0-9_-]{43})$", body, re.MULTILINE)]


ClientMaker = Callable[..., Awaitable[AsyncClient]]


@pytest.fixture
async def limited_client(settings: Settings, database: Database) -> AsyncIterator[ClientMaker]:
    """Makes clients of an app with the rate limits on (the suite turns them off).

    `make(address="10.0.0.1", **settings)`: the client connects from `address`;
    clients made with the same settings share one app, hence one set of counters.
    """
    apps: dict[str, Any] = {}
    managers: list[LifespanManager] = []
    clients: list[AsyncClient] = []

    async def make(address: str = "10.0.0.1", **overrides: Any) -> AsyncClient:
        key = repr(sorted(overrides.items()))
        if key not in apps:
            app = create_app(settings.model_copy(update={"rate_limits_enabled": True, **overrides}))
            manager = LifespanManager(app)
            await manager.__aenter__()
            managers.append(manager)
            apps[key] = manager.app
        transport = ASGITransport(app=apps[key], raise_app_exceptions=False, client=(address, 40000))
        client = AsyncClient(transport=transport, base_url="http://test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    for manager in reversed(managers):
        await manager.__aexit__(None, None, None)
