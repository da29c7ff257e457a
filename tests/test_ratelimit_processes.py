"""Rate limits shared through Redis: two server processes count failed logins together."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.notifications.conftest import free_port

STOREFRONT = str(Path(sys.executable).parent / "storefront")
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "violet-otter-marmalade-42"


@pytest.fixture
def run() -> Iterator[tuple[str, str]]:
    """A name and a loopback client address of this run's own; every Redis key
    the test makes contains one of them, and those keys alone are deleted after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    name = uuid.uuid4().hex[:12]
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    yield name, address
    for pattern in (f"*{name}*", f"*/{address}/*"):
        for key in client.scan_iter(match=pattern):
            client.delete(key)
    client.close()


def register(client: httpx.Client, url: str, username: str) -> None:
    """A new account, its Redis counters dropped: account ids restart with every
    test's empty tables, and a counter outliving its test would count for the next."""
    import redis

    registered = client.post(
        f"{url}/api/v1/auth/register",
        json={"email": f"{username}@example.com", "username": username, "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(match=f"*user:{registered.json()['id']}*"):
        store.delete(key)
    store.close()


@pytest.fixture
def servers(tmp_path: Path, database_url: str, database: Any) -> Iterator[list[str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_", "COVERAGE"))} | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "ratelimit-processes-secret-key-long-enough",
        "LOG_LEVEL": "WARNING",
        "MAIL_DIR": str(tmp_path / "mail"),
        "WORKER_EMBEDDED": "false",
        "REDIS_URL": REDIS_URL,
        "RATE_LIMITS_ENABLED": "true",
        "RATE_LIMIT_LOGIN_ACCOUNT": "5/15 minutes",
    }
    subprocess.run([STOREFRONT, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)  # noqa: S603
    running: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            running.append(
                subprocess.Popen(  # noqa: S603
                    [STOREFRONT, "serve", "--port", str(port)],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for process, url in zip(running, urls, strict=True):
            _wait_ready(process, url)
        yield urls
    finally:
        for process in running:
            process.kill()
            process.wait(timeout=30)


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited at start"
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


@pytest.mark.slow
def test_failed_logins_on_two_workers_share_one_limit_through_redis(servers: list[str], run: tuple[str, str]) -> None:
    first, second = servers
    name, address = run
    transport = httpx.HTTPTransport(local_address=address)
    username = f"rl_{name}"
    with httpx.Client(transport=transport, timeout=30) as client:
        register(client, first, username)
        wrong = {"username": username, "password": "not-the-password"}

        # Three failures on one worker, two on the other: neither saw five alone.
        failures = [client.post(f"{url}/api/v1/auth/login", json=wrong) for url in (first, second) * 2 + (first,)]
        limited = [client.post(f"{url}/api/v1/auth/login", json=wrong) for url in (first, second)]
        right = client.post(f"{second}/api/v1/auth/login", json={"username": username, "password": PASSWORD})

    assert [r.status_code for r in failures] == [401] * 5
    for response in [*limited, right]:
        assert response.status_code == 429, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
        assert response.headers["RateLimit-Policy"] == '"login-account";q=5;w=900'
        assert response.headers["RateLimit"].startswith('"login-account";r=0;t=')


@pytest.mark.slow
def test_100_parallel_guesses_on_two_workers_check_no_more_passwords_than_the_limit(
    servers: list[str], run: tuple[str, str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    first, second = servers
    name, address = run
    username = f"race_{name}"
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, timeout=60) as client:
        register(client, first, username)
    guesses = ["not-the-password"] * 100
    guesses[77] = PASSWORD

    def guess(n: int) -> httpx.Response:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60) as client:
            url = (first, second)[n % 2]
            return client.post(f"{url}/api/v1/auth/login", json={"username": username, "password": guesses[n]})

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(guess, range(100)))

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 401, 429}, statuses
    checked = [status for status in statuses if status != 429]
    assert len(checked) <= 5, statuses
    assert statuses[77] == 429
