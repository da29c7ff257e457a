"""`storefront serve --workers 2`: each worker accepts on a socket of its own, so
keep-alive connections are spread over both; a worker that dies is replaced,
SIGTERM drains and stops them all, and none outlives its supervisor.

Which process holds a socket is read from /proc, as a server's operator would:
the API has no endpoint for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.notifications.conftest import free_port
from tests.test_processes import ADMIN, STOREFRONT, Processes, processes, wait_for  # noqa: F401 - the fixture

LISTEN, ESTABLISHED = "0A", "01"  # socket states in /proc/net/tcp
CONNECTIONS = 64


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> set[int]:
        """The processes listening on the port: the workers that have started."""
        held = _sockets_held(self.process.pid)
        return {held[inode] for inode in _sockets_on(self.port, LISTEN) if inode in held}

    def holder(self, client: socket.socket) -> int:
        """The process holding the server's end of `client`'s connection."""
        held = _sockets_held(self.process.pid)
        client_port = client.getsockname()[1]
        [inode] = [inode for inode, peer in _sockets_on(self.port, ESTABLISHED).items() if peer == client_port]
        return held[inode]


def _sockets_on(port: int, state: str) -> dict[str, int]:
    """Inode -> peer port of each IPv4 socket on local `port` in `state`."""
    found = {}
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            found[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return found


def _sockets_held(root: int) -> dict[str, int]:
    """Socket inode -> pid, for each socket open in a process below `root`."""
    held = {}
    for pid in _descendants(root):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if (link := os.readlink(fd)).startswith("socket:["):
                        held[link[8:-1]] = pid
    return held


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in map(int, children.read_text().split()):
                found += [child, *_descendants(child)]
    return found


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (a process reparented to init waits there to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def served(processes: Processes) -> Iterator[Served]:  # noqa: F811
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [STOREFRONT, "serve", "--port", str(port), "--workers", "2"],
        env=processes.env | {"HTTP_KEEP_ALIVE_SECONDS": "60"},
        cwd=processes.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its worker processes share its group, and go with it
    )
    served = Served(process, port)
    try:
        wait_for(lambda: process.poll() is None and len(served.workers()) == 2, timeout=60)
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


@pytest.mark.slow
def test_keep_alive_connections_are_spread_over_both_workers(served: Served) -> None:
    clients = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(CONNECTIONS)]
    try:
        for client in clients:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            client.settimeout(10)
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        per_worker = Counter(served.holder(client) for client in clients)
    finally:
        for client in clients:
            client.close()

    # The kernel picks a worker by a hash of each connection's addresses, so
    # the split is binomial: one worker under a quarter has a chance of 2.4e-5.
    assert set(per_worker) == served.workers()
    assert min(per_worker.values()) >= CONNECTIONS // 4, per_worker


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced(served: Served) -> None:
    killed = min(served.workers())
    os.kill(killed, signal.SIGKILL)

    wait_for(lambda: len(workers := served.workers()) == 2 and killed not in workers, timeout=60)
    assert httpx.get(f"{served.url}/health").status_code == 200


@pytest.mark.slow
def test_sigterm_drains_both_workers_and_stops_every_process(processes: Processes, served: Served) -> None:  # noqa: F811
    processes.cli("create-admin", "--email", "boss@example.com", "--username", ADMIN["username"], "--password",
                  ADMIN["password"])  # fmt: skip
    started = _descendants(served.process.pid)  # the workers and multiprocessing's resource tracker

    async def scenario() -> list[int]:
        limits = httpx.Limits(max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(base_url=served.url, timeout=30, limits=limits) as client:
            # Logins take ~0.1 s of hashing each, in a thread pool: plenty in flight at once.
            logins = [asyncio.create_task(client.post("/api/v1/auth/login", json=ADMIN)) for _ in range(12)]
            await asyncio.sleep(0.15)
            served.process.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*logins)
        return [response.status_code for response in responses]

    statuses = asyncio.run(scenario())
    _, stderr = served.process.communicate(timeout=60)

    assert statuses == [200] * 12
    assert served.process.returncode == 0
    assert "Traceback" not in stderr.decode()
    wait_for(lambda: all(map(_gone, started)))


@pytest.mark.slow
def test_no_worker_outlives_a_killed_supervisor(served: Served) -> None:
    workers = served.workers()
    served.process.kill()

    wait_for(lambda: all(map(_gone, workers)))
