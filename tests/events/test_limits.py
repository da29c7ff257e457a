"""What a socket may send and how many may be open: limits that keep a client
from exhausting the server's memory. Real loopback server, real WebSocket client.

Refusals close the socket with a code that says why: 1009 message over 64 KiB,
1003 binary frame, 1007 invalid JSON, 1013 too many connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from typer.testing import CliRunner

from storefront import server
from storefront.cli import app as cli
from storefront.config import get_settings
from storefront.context import context_of
from tests.conftest import LiveServer
from tests.events.test_streams import TIMEOUT, close_code, next_event
from tests.factories import Factory

KIB = 1024


async def echoes(server: LiveServer, text: str = "still here") -> bool:
    async with websockets.connect(f"{server.ws_url}/ws/echo") as ws:
        await ws.send(text)
        return bool(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["echo"] == text)


async def healthy(server: LiveServer) -> bool:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return (await client.get("/health")).status_code == 200


async def closed_after_sending(url: str, message: str | bytes, **kwargs: Any) -> int | None:
    async with websockets.connect(url, **kwargs) as ws:
        await ws.send(message)
        return await close_code_of(ws)


async def close_code_of(ws: Any) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize(
    "message",
    [pytest.param("x" * 65 * KIB, id="65-KiB"), pytest.param("é" * 40 * KIB, id="80-KiB-in-40-Ki-characters")],
)
async def test_a_message_over_64_kib_closes_1009_and_the_server_stays_healthy(
    live_server: LiveServer, server_errors: list[logging.LogRecord], message: str
) -> None:
    assert await closed_after_sending(f"{live_server.ws_url}/ws/echo", message) == 1009
    assert await healthy(live_server)
    assert await echoes(live_server)
    assert server_errors == []


async def test_a_message_of_exactly_64_kib_is_echoed(live_server: LiveServer) -> None:
    assert await echoes(live_server, "x" * 64 * KIB)


async def test_a_message_over_64_kib_closes_the_event_stream_1009(live_server: LiveServer, factory: Factory) -> None:
    buyer = await factory.customer()
    url = f"{live_server.ws_url}/ws/events"
    assert await closed_after_sending(url, "x" * 65 * KIB, additional_headers=buyer.headers) == 1009


@pytest.mark.parametrize("path", ["/ws/echo", "/ws/events"])
async def test_a_binary_frame_closes_1003(
    live_server: LiveServer, factory: Factory, server_errors: list[logging.LogRecord], path: str
) -> None:
    buyer = await factory.customer()
    url = f"{live_server.ws_url}{path}"
    assert await closed_after_sending(url, b'{"type": "ping"}', additional_headers=buyer.headers) == 1003
    assert server_errors == []
    assert await echoes(live_server)


@pytest.mark.parametrize(
    "message",
    [pytest.param("[" * 60_000, id="deeply-nested"), pytest.param("{not json", id="invalid")],
)
async def test_bad_json_on_the_event_stream_closes_1007_without_a_server_error(
    live_server: LiveServer, factory: Factory, server_errors: list[logging.LogRecord], message: str
) -> None:
    buyer = await factory.customer()
    url = f"{live_server.ws_url}/ws/events"
    assert await closed_after_sending(url, message, additional_headers=buyer.headers) == 1007
    assert server_errors == []
    async with websockets.connect(url, additional_headers=buyer.headers) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert await next_event(ws) == {"type": "pong"}


async def test_sockets_from_one_address_are_capped_at_20_then_refused_1013(
    live_server: LiveServer, factory: Factory
) -> None:
    buyer = await factory.customer()
    slots = context_of(live_server.app).streams.per_address
    async with contextlib.AsyncExitStack() as stack:
        url = f"{live_server.ws_url}/ws/echo"
        sockets = [await stack.enter_async_context(websockets.connect(url)) for _ in range(20)]
        for ws in sockets:
            await ws.send("hi")
            await asyncio.wait_for(ws.recv(), TIMEOUT)

        assert await close_code(f"{live_server.ws_url}/ws/echo") == 1013
        assert await close_code(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) == 1013
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            refused = await client.get("/api/v1/events", headers=buyer.headers)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_streams"

        # A socket that closes gives its slot back.
        await sockets[0].close()
        for _ in range(TIMEOUT * 100):  # the server hears of the close a moment after the client
            if slots.total < 20:
                break
            await asyncio.sleep(0.01)
        assert await echoes(live_server)


def test_serve_tells_uvicorn_to_buffer_at_most_64_kib_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[uvicorn.Config] = []
    monkeypatch.setattr(server, "run", seen.append)
    monkeypatch.chdir(tmp_path)  # no `.env` from the checkout
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/storefront.db")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    [config] = seen
    assert config.ws_max_size == 64 * KIB
