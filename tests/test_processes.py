"""Real processes: crashes, restarts and several servers side by side."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from storefront.database import Database
from tests.notifications.conftest import Inbox, free_port

STOREFRONT = str(Path(sys.executable).parent / "storefront")
ADMIN = {"username": "boss", "password": "a-long-admin-passphrase"}


class Processes:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.running: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> None:
        subprocess.run([STOREFRONT, *args], env=self.env, cwd=self.cwd, check=True, capture_output=True)  # noqa: S603

    def serve(self, port: int, *, stderr: Any = subprocess.DEVNULL, **env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603
            [STOREFRONT, "serve", "--port", str(port)],
            env=self.env | env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        self.running.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, "server exited at start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready")

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def processes(tmp_path: Path, database_url: str, database: Database) -> Iterator[Processes]:
    """The CLI and servers as processes, on the run's database (`database` empties it after)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_", "COVERAGE"))} | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "processes-test-secret-key-long-enough",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMITS_ENABLED": "false",
        "MAIL_DIR": str(tmp_path / "mail"),
    }
    procs = Processes(env, tmp_path)
    procs.cli("db", "upgrade")
    yield procs
    procs.stop_all()


def two_servers_on_redis(processes: Processes) -> tuple[int, int, dict[str, str]]:
    """An admin, two `serve` processes sharing Redis, and the admin's bearer from the first."""
    import redis

    redis.Redis(host="127.0.0.1", port=6379).ping()
    processes.cli("create-admin", "--email", "boss@example.com", "--username", ADMIN["username"], "--password",
                  ADMIN["password"])  # fmt: skip
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    port_a, port_b = free_port(), free_port()
    processes.serve(port_a, **shared)
    processes.serve(port_b, **shared)
    return port_a, port_b, login(f"http://127.0.0.1:{port_a}")


def login(base: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v1/auth/login", json=ADMIN).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def wait_for(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_a_queued_email_survives_sigkill_and_arrives_exactly_once(processes: Processes, database: Any) -> None:
    processes.cli("create-admin", "--email", "boss@example.com", "--username", ADMIN["username"], "--password",
                  ADMIN["password"])  # fmt: skip
    smtp_port, port = free_port(), free_port()
    mail = {
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SMTP_TIMEOUT_SECONDS": "2",
        "EMAIL_RETRY_BASE_SECONDS": "0.2",
        "WORKER_POLL_SECONDS": "0.2",
        "WORKER_LEASE_SECONDS": "5",
    }
    base = f"http://127.0.0.1:{port}"

    first = processes.serve(port, **mail)
    headers = login(base)
    queued = httpx.post(
        f"{base}/api/v1/notifications/email",
        json={"to": "ada@example.com", "subject": "Survivor", "body": "still here"},
        headers=headers,
    )
    assert queued.status_code == 202
    location = f"{base}{queued.headers['Location']}"
    # The SMTP server is down: the first attempt fails and is recorded.
    wait_for(lambda: httpx.get(location, headers=headers).json()["attempts"] >= 1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        processes.serve(port, **mail)
        wait_for(lambda: httpx.get(location, headers=headers).json()["status"] == "sent")
        time.sleep(1.0)  # a second delivery, if one were coming, would land now
        assert inbox.subjects() == ["Survivor"]
        shown = httpx.get(location, headers=headers).json()
        assert shown["sent_at"] is not None
        assert shown["last_error"] is None
    finally:
        controller.stop()


@pytest.mark.slow
@pytest.mark.postgres_only
def test_an_event_crosses_between_two_servers_through_redis(processes: Processes, database: Any) -> None:
    port_a, port_b, headers = two_servers_on_redis(processes)

    async def scenario() -> dict[str, Any]:
        import websockets

        async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws/events", additional_headers=headers) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv()) == {"type": "pong"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_b}") as client:
                created = await client.post(
                    "/api/v1/products", json={"name": "Crossing", "price": "1.00", "stock": 9}, headers=headers
                )
                assert created.status_code == 201
                product_id = created.json()["id"]
                placed = await client.post(
                    "/api/v1/orders", json={"items": [{"product_id": product_id, "quantity": 1}]}, headers=headers
                )
                assert placed.status_code == 201
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if event["type"] == "order.created":
                    return dict(event)

    event = asyncio.run(scenario())
    assert event["data"]["status"] == "pending"


@pytest.mark.slow
def test_sigterm_lets_in_flight_requests_finish_and_exits_0(processes: Processes, database: Any) -> None:
    processes.cli("create-admin", "--email", "boss@example.com", "--username", ADMIN["username"], "--password",
                  ADMIN["password"])  # fmt: skip
    port = free_port()
    server = processes.serve(port, stderr=subprocess.PIPE, LOG_LEVEL="INFO")
    base = f"http://127.0.0.1:{port}"

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            # Logins take ~0.1 s of hashing each, in a thread pool: plenty in flight at once.
            logins = [asyncio.create_task(client.post("/api/v1/auth/login", json=ADMIN)) for _ in range(12)]
            await asyncio.sleep(0.15)
            server.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*logins)
        return [response.status_code for response in responses]

    statuses = asyncio.run(scenario())
    _, stderr = server.communicate(timeout=30)

    assert statuses == [200] * 12
    assert server.returncode == 0
    log = stderr.decode()
    assert "Traceback" not in log
    assert "Shutting down" in log or "shutdown" in log.lower()


@pytest.mark.slow
def test_worker_process_delivers_then_stops_cleanly_on_sigterm(processes: Processes, database: Any) -> None:
    async def queue_one() -> None:
        from storefront.config import Settings
        from storefront.context import AppContext

        context = AppContext.create(Settings(database_url=processes.env["DATABASE_URL"]))
        async with context.database.transaction() as uow:
            await uow.queue_message(to="ada@example.com", subject="From the worker", text="hi")
        await context.stop()

    asyncio.run(queue_one())
    worker = subprocess.Popen(  # noqa: S603
        [STOREFRONT, "worker"], env=processes.env | {"WORKER_POLL_SECONDS": "0.2"}, cwd=processes.cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    processes.running.append(worker)
    mail = Path(processes.env["MAIL_DIR"])
    wait_for(lambda: any(mail.glob("*.eml")))
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=30)

    assert worker.returncode == 0
    assert "Traceback" not in stderr.decode()
    [eml] = mail.glob("*.eml")
    assert "Subject: From the worker" in eml.read_text()
    status = subprocess.run(  # noqa: S603
        [STOREFRONT, "worker", "--status"], env=processes.env, cwd=processes.cwd, capture_output=True, check=True
    )
    assert json.loads(status.stdout)["emails"]["sent"] == 1
    assert json.loads(status.stdout)["webhooks"]["pending"] == 0
