"""Live events over WebSocket and Server-Sent Events, on a real loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed

from storefront.context import context_of
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Product, StreamTicket
from tests.conftest import LiveServer
from tests.factories import Actor, Factory

TIMEOUT = 10


async def place(server: LiveServer, buyer: Actor, product: Product, quantity: int = 1) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": quantity}]},
            headers=buyer.headers,
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def next_event(ws: Any) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))


async def ticket_for(server: LiveServer, actor: Actor) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/v1/events/ticket", headers=actor.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 60
    return str(body["ticket"])


async def close_code(url: str, **kwargs: Any) -> int | None:
    async with websockets.connect(url, **kwargs) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_echo(live_server: LiveServer) -> None:
    async with websockets.connect(f"{live_server.ws_url}/ws/echo") as ws:
        await ws.send("hello")
        answer = json.loads(await ws.recv())
    assert answer["echo"] == "hello"
    assert answer["server_time"].endswith(("Z", "+00:00"))


async def test_order_events_reach_their_owner_and_staff_only(live_server: LiveServer, factory: Factory) -> None:
    alice, bob, staff = await factory.customer(), await factory.customer(), await factory.staff()
    product = await factory.product(stock=10)
    url = f"{live_server.ws_url}/ws/events"
    async with (
        websockets.connect(url, additional_headers=alice.headers) as alice_ws,
        websockets.connect(url, additional_headers=bob.headers) as bob_ws,
        websockets.connect(url, additional_headers=staff.headers) as staff_ws,
    ):
        order = await place(live_server, alice, product)
        # A marker only Bob may see: if Alice's event had reached him, it would come first.
        bobs = await place(live_server, bob, product)

        alice_event = await next_event(alice_ws)
        assert alice_event["type"] == "order.created"
        assert alice_event["data"]["order_id"] == order["id"]
        assert set(alice_event) == {"id", "type", "created_at", "data"}
        assert (await next_event(bob_ws))["data"]["order_id"] == bobs["id"]
        staff_seen = [await next_event(staff_ws), await next_event(staff_ws)]
        assert [e["data"]["order_id"] for e in staff_seen] == [order["id"], bobs["id"]]


async def test_ping_gets_pong(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await next_event(ws) == {"type": "pong"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_bad_credentials_close_with_1008(live_server: LiveServer, headers: dict[str, str]) -> None:
    assert await close_code(f"{live_server.ws_url}/ws/events", additional_headers=headers) == 1008


async def test_a_ticket_opens_one_stream_once(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product()
    ticket = await ticket_for(live_server, buyer)

    async with websockets.connect(f"{live_server.ws_url}/ws/events?ticket={ticket}") as ws:
        order = await place(live_server, buyer, product)
        assert (await next_event(ws))["data"]["order_id"] == order["id"]
    assert await close_code(f"{live_server.ws_url}/ws/events?ticket={ticket}") == 1008


async def test_an_expired_ticket_is_refused(live_server: LiveServer, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    ticket = await ticket_for(live_server, buyer)
    async with database.transaction() as session:
        await session.execute(update(StreamTicket).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await close_code(f"{live_server.ws_url}/ws/events?ticket={ticket}") == 1008
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.get("/api/v1/events", params={"ticket": ticket})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_tickets_need_a_login(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        assert (await client.post("/api/v1/events/ticket")).status_code == 401
        assert (await client.get("/api/v1/events")).status_code == 401


async def test_since_replays_missed_events_then_goes_live(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    first = await place(live_server, buyer, product)
    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws:
        await place(live_server, buyer, product)
        seen = await next_event(ws)
    missed = [await place(live_server, buyer, product) for _ in range(2)]

    async with websockets.connect(
        f"{live_server.ws_url}/ws/events?since={seen['id']}", additional_headers=buyer.headers
    ) as ws:
        replayed = [await next_event(ws), await next_event(ws)]
        live = await place(live_server, buyer, product)
        assert (await next_event(ws))["data"]["order_id"] == live["id"]
    assert [e["data"]["order_id"] for e in replayed] == [o["id"] for o in missed]
    assert first["id"] not in [e["data"]["order_id"] for e in replayed]


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.strip()


async def test_sse_reconnect_with_last_event_id_gets_exactly_what_was_missed(
    live_server: LiveServer, factory: Factory
) -> None:
    buyer, other = await factory.customer(), await factory.customer()
    product = await factory.product(stock=20)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client:
        async with client.stream("GET", "/api/v1/events", headers=buyer.headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = sse_events(response)
            seen = await place(live_server, buyer, product)
            event = await asyncio.wait_for(anext(stream), TIMEOUT)
            assert event["event"] == "order.created"
            assert json.loads(event["data"])["data"]["order_id"] == seen["id"]
            last_id = event["id"]

        missed = []
        for n in range(3):
            missed.append(await place(live_server, buyer, product))
            await place(live_server, other, product)  # not the buyer's business
            assert n < 3

        async with client.stream(
            "GET", "/api/v1/events", headers=buyer.headers | {"Last-Event-ID": last_id}
        ) as response:
            stream = sse_events(response)
            replayed = [await asyncio.wait_for(anext(stream), TIMEOUT) for _ in missed]
            marker = await place(live_server, buyer, product)
            after = await asyncio.wait_for(anext(stream), TIMEOUT)

    assert [json.loads(e["data"])["data"]["order_id"] for e in replayed] == [o["id"] for o in missed]
    assert [int(e["id"]) for e in replayed] == sorted(int(e["id"]) for e in replayed)
    assert all(int(e["id"]) > int(last_id) for e in replayed)
    assert json.loads(after["data"])["data"]["order_id"] == marker["id"]


async def test_streams_per_user_are_capped(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    context_of(live_server.app).streams.per_user.limit = 1
    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        await next_event(ws)
        assert await close_code(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) == 1013
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            response = await client.get("/api/v1/events", headers=buyer.headers)
        assert response.status_code == 429
        assert response.json()["code"] == "too_many_streams"


async def test_server_shutdown_closes_streams_with_1001(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    async with (
        websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws,
        httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client,
        client.stream("GET", "/api/v1/events", headers=buyer.headers) as sse,
    ):
        await ws.send(json.dumps({"type": "ping"}))
        await next_event(ws)
        stopping = asyncio.create_task(live_server.stop())
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        # The SSE response ends cleanly too: the body finishes instead of hanging.
        rest = [line async for line in sse.aiter_lines()]
        await stopping
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert all(line == "" or line.startswith(":") for line in rest)


async def test_a_logged_out_session_cannot_open_a_stream(live_server: LiveServer, factory: Factory) -> None:
    from tests.factories import PASSWORD

    buyer = await factory.customer()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        pair = (
            await client.post("/api/v1/auth/login", json={"username": buyer.user.username, "password": PASSWORD})
        ).json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert await next_event(ws) == {"type": "pong"}
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert await close_code(f"{live_server.ws_url}/ws/events", additional_headers=headers) == 1008
