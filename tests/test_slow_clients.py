"""Slow and idle clients against the real server (`storefront serve`, two
workers): headers must arrive in time, idle keep-alive connections close, and
the server does not name itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.notifications.conftest import free_port
from tests.test_processes import STOREFRONT, Processes, processes  # noqa: F401 - the fixture

HEADER_TIMEOUT = 1.0


@pytest.fixture
def server(processes: Processes) -> Iterator[int]:  # noqa: F811
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [STOREFRONT, "serve", "--port", str(port), "--workers", "2"],
        env=processes.env | {"HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT), "HTTP_KEEP_ALIVE_SECONDS": "1"},
        cwd=processes.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker processes share its group, and go with it
    )
    try:
        yield _ready(process, port)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _ready(process: subprocess.Popen[bytes], port: int) -> int:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "server exited at start"
        assert time.monotonic() < deadline, "server did not become ready"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return port


def _closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float | None:
    """Seconds until the server closed `sock` (sending `drip` every 0.2 s meanwhile), or None."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if drip:
            try:
                sock.sendall(drip)
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
    return None


@pytest.mark.slow
def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        closed = _closed_within(sock, 5)
    assert closed is not None
    assert closed < HEADER_TIMEOUT + 1


@pytest.mark.slow
def test_headers_dripped_byte_by_byte_are_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = _closed_within(sock, 6, drip=b"X")
    assert closed is not None
    assert closed < HEADER_TIMEOUT + 1


@pytest.mark.slow
def test_answers_do_not_name_the_server_and_idle_keep_alive_ends(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(5)
        head = sock.recv(65536).split(b"\r\n\r\n")[0].decode().lower()
        closed = _closed_within(sock, 5)
    assert head.startswith("http/1.1 200")
    assert "\r\nserver:" not in head
    assert closed is not None
    assert closed < 2
