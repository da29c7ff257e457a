"""A stream lives as long as the login session it was opened with: logout, a
password change or reset, a reused refresh token and deactivation close it
(WebSocket close 1008 "session ended"; an SSE response ends)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from storefront.auth import sessions
from storefront.auth.tokens import read_access_token
from storefront.context import context_of
from storefront.database import Database
from storefront.models import User
from tests.auth.conftest import bearer, log_in, reset_tokens_sent
from tests.conftest import LiveServer
from tests.events.test_streams import TIMEOUT, close_code, next_event, place, ticket_for
from tests.factories import PASSWORD, Actor, Factory

NEW_PASSWORD = "violet-otter-marmalade-42"


async def session_of(server: LiveServer, actor: Actor) -> Actor:
    """The actor in another login session, started by logging in to the server."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        pair = await log_in(client, actor.user.username)
    claims = read_access_token(context_of(server.app).settings, pair["access_token"])
    assert claims is not None
    return Actor(actor.user, pair["access_token"], claims.session_id)


async def post(server: LiveServer, path: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.post(path, headers=headers, **kwargs)


async def live(ws: Any) -> bool:
    """The socket is open and answered (the stream passed authentication)."""
    await ws.send(json.dumps({"type": "ping"}))
    return await next_event(ws) == {"type": "pong"}


async def closed_by_session_end(ws: Any) -> bool:
    """The next frame is the close: 1008 "session ended", with no event before it."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code == 1008 and closed.value.rcvd.reason == "session ended"


async def sse_ends(response: httpx.Response) -> bool:
    """The SSE body finishes (without another event) instead of hanging."""

    async def rest() -> list[str]:
        return [line async for line in response.aiter_lines()]

    lines = await asyncio.wait_for(rest(), TIMEOUT)
    return all(line == "" or line.startswith(":") for line in lines)


async def test_a_ticket_taken_before_logout_opens_no_stream(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    for_ws, for_sse = await ticket_for(live_server, buyer), await ticket_for(live_server, buyer)

    assert (await post(live_server, "/api/v1/auth/logout", buyer.headers)).status_code == 204

    assert await close_code(f"{live_server.ws_url}/ws/events?ticket={for_ws}") == 1008
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        assert (await client.get("/api/v1/events", params={"ticket": for_sse})).status_code == 401


async def test_an_api_key_cannot_take_a_ticket(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    key = (await post(live_server, "/api/v1/auth/api-keys", buyer.headers, json={"name": "script"})).json()["key"]

    refused = await post(live_server, "/api/v1/events/ticket", {"X-API-Key": key})

    assert refused.status_code == 403
    assert refused.json()["code"] == "fresh_login_required"


async def test_logout_closes_the_sessions_websockets_1008_and_ends_its_sse_stream(
    live_server: LiveServer, factory: Factory
) -> None:
    customer = await factory.customer()
    mine, other = await session_of(live_server, customer), await session_of(live_server, customer)
    url = f"{live_server.ws_url}/ws/events"
    ticket = await ticket_for(live_server, mine)
    async with (
        websockets.connect(url, additional_headers=mine.headers) as ws,
        websockets.connect(f"{url}?ticket={ticket}") as ticket_ws,
        websockets.connect(url, additional_headers=other.headers) as other_ws,
        httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client,
        client.stream("GET", "/api/v1/events", headers=mine.headers) as sse,
    ):
        assert sse.status_code == 200
        assert await live(ws)
        assert await live(ticket_ws)
        assert await live(other_ws)

        assert (await client.post("/api/v1/auth/logout", headers=mine.headers)).status_code == 204

        assert await closed_by_session_end(ws)
        assert await closed_by_session_end(ticket_ws)
        assert await sse_ends(sse)
        assert await live(other_ws)  # another session of the same user goes on


async def test_a_rolled_back_logout_leaves_the_stream_open(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    database = context_of(live_server.app).database

    async def log_out(*, commit: bool) -> None:
        async with database.transaction() as session:
            user = await session.get(User, buyer.id)
            assert user is not None
            await sessions.end(session, user, buyer.session_id)
            if not commit:
                raise LookupError("rolled back")

    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws:
        assert await live(ws)
        with pytest.raises(LookupError):
            await log_out(commit=False)
        assert await live(ws)

        await log_out(commit=True)
        assert await closed_by_session_end(ws)


@pytest.mark.parametrize("how", ["deactivate", "erase"])
async def test_deactivating_a_user_closes_their_streams_and_no_private_event_follows(
    live_server: LiveServer, factory: Factory, how: str
) -> None:
    customer, admin = await factory.customer(), await factory.admin()
    in_session = await session_of(live_server, customer)
    product = await factory.product(stock=10)
    url = f"{live_server.ws_url}/ws/events"
    async with (
        websockets.connect(url, additional_headers=customer.headers) as first_ws,
        websockets.connect(url, additional_headers=in_session.headers) as ws,
        httpx.AsyncClient(base_url=live_server.url) as client,
    ):
        assert await live(first_ws)
        assert await live(ws)
        order = await place(live_server, customer, product)
        assert (await next_event(ws))["data"]["order_id"] == order["id"]
        assert (await next_event(first_ws))["data"]["order_id"] == order["id"]

        if how == "deactivate":
            ended = await client.patch(f"/api/v1/users/{customer.id}", json={"is_active": False}, headers=admin.headers)
            assert ended.status_code == 200, ended.text
        else:
            ended = await client.delete(f"/api/v1/users/{customer.id}", headers=admin.headers)
            assert ended.status_code == 204, ended.text
        # A private event of theirs, after the fact: it must not reach them.
        paid = await client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "paid"}, headers=admin.headers)
        assert paid.status_code == 200, paid.text

        assert await closed_by_session_end(ws)
        assert await closed_by_session_end(first_ws)  # every session of theirs ends
    assert await close_code(url, additional_headers=in_session.headers) == 1008


async def test_changing_the_password_closes_the_other_sessions_streams(
    live_server: LiveServer, factory: Factory
) -> None:
    customer = await factory.customer()
    current, other = await session_of(live_server, customer), await session_of(live_server, customer)
    url = f"{live_server.ws_url}/ws/events"
    async with (
        websockets.connect(url, additional_headers=current.headers) as current_ws,
        websockets.connect(url, additional_headers=other.headers) as other_ws,
        httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client,
        client.stream("GET", "/api/v1/events", headers=other.headers) as other_sse,
    ):
        assert await live(current_ws)
        assert await live(other_ws)

        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=current.headers,
        )
        assert changed.status_code == 204, changed.text

        assert await closed_by_session_end(other_ws)
        assert await sse_ends(other_sse)
        assert await live(current_ws)  # the session that changed it goes on


async def test_a_password_reset_closes_every_stream(
    live_server: LiveServer, factory: Factory, database: Database
) -> None:
    customer = await factory.customer(email="ada@example.com")
    in_session = await session_of(live_server, customer)
    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=in_session.headers) as ws:
        assert await live(ws)
        requested = await post(live_server, "/api/v1/auth/password-reset", {}, json={"email": "ada@example.com"})
        assert requested.status_code == 202
        [token] = await reset_tokens_sent(database, "ada@example.com")

        confirmed = await post(
            live_server, "/api/v1/auth/password-reset/confirm", {}, json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert confirmed.status_code == 204, confirmed.text

        assert await closed_by_session_end(ws)


async def test_a_reused_refresh_token_closes_its_sessions_streams(live_server: LiveServer, factory: Factory) -> None:
    customer = await factory.customer()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        pair = await log_in(client, customer.user.username)
        async with websockets.connect(
            f"{live_server.ws_url}/ws/events", additional_headers=bearer(pair["access_token"])
        ) as ws:
            assert await live(ws)
            body = {"refresh_token": pair["refresh_token"]}
            assert (await client.post("/api/v1/auth/refresh", json=body)).status_code == 200
            assert (await client.post("/api/v1/auth/refresh", json=body)).status_code == 401  # reused: the session ends

            assert await closed_by_session_end(ws)
