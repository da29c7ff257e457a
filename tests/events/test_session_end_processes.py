"""A session ended in one server process closes its streams in every other (Redis)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.test_processes import Processes, processes, two_servers_on_redis  # noqa: F401  (the fixture)


@pytest.mark.slow
@pytest.mark.postgres_only
def test_logout_on_one_server_closes_the_stream_on_another(processes: Processes, database: Any) -> None:  # noqa: F811
    port_a, port_b, headers = two_servers_on_redis(processes)

    async def scenario() -> tuple[int, str]:
        async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws/events", additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_b}") as client:
                assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason

    assert asyncio.run(scenario()) == (1008, "session ended")
