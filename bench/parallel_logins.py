"""Do parallel logins on SQLite wait for each other behind the write lock?

Runs the app in-process on a fresh SQLite file and logs 10 users in at once,
while a probe makes a tiny write every 10 ms and records how long it waits for
the lock. Then the same for the old shape of a login (account lookup inside the
request's IMMEDIATE write transaction, so the hash runs with the lock held).
`--sleep-hash` replaces argon2 by a 100 ms sleep that uses no CPU, which shows
the lock alone on a machine with few cores.

    .venv/bin/python bench/parallel_logins.py /tmp/logins.db [--sleep-hash]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pwdlib import PasswordHash

from storefront import migrations
from storefront.auth import passwords, repository
from storefront.config import Settings
from storefront.context import context_of
from storefront.database import Database
from storefront.main import create_app
from storefront.models import User

PASSWORD = "correct-horse-battery-staple"
N = 10


class _SleepyHasher:
    """A "hash" that takes 100 ms without using the CPU."""

    def verify(self, password: str, hashed: str) -> bool:
        time.sleep(0.1)
        return password == PASSWORD

    def verify_and_update(self, password: str, hashed: str) -> tuple[bool, None]:
        return self.verify(password, hashed), None


class _Probe:
    """A tiny write every 10 ms; remembers the longest wait for the lock."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.waits: list[float] = []
        self.running = True
        self.started = 0.0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self.running:
            self.started = time.perf_counter()
            async with self.database.transaction() as session:
                user = await session.get(User, 1)
                assert user is not None
                user.full_name = str(self.started)
            self.waits.append(time.perf_counter() - self.started)
            self.started = 0.0
            await asyncio.sleep(0.01)

    async def stop(self) -> str:
        if self.started:  # still waiting when the logins ended
            self.waits.append(time.perf_counter() - self.started)
        self.running = False
        await self.task
        return f"other writes meanwhile: {len(self.waits)}, longest wait {max(self.waits) * 1000:.0f} ms"


async def main(url: str, password_hash: str) -> None:
    settings = Settings(database_url=url, rate_limits_enabled=False, worker_embedded=False, log_level="WARNING")
    app = create_app(settings)
    database = context_of(app).database
    async with database.transaction() as session:
        session.add_all(
            User(email=f"p{n}@example.com", username=f"p{n}", password_hash=password_hash) for n in range(N)
        )

    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://bench") as client:

            async def login(n: int) -> float:
                started = time.perf_counter()
                answer = await client.post("/api/v1/auth/login", json={"username": f"p{n}", "password": PASSWORD})
                assert answer.status_code == 200, answer.text
                return time.perf_counter() - started

            await login(0)
            alone = min([await login(n) for n in range(3)])
            probe = _Probe(database)
            started = time.perf_counter()
            each = await asyncio.gather(*(login(n) for n in range(N)))
            wall = time.perf_counter() - started
            print(f"now: one login {alone * 1000:.0f} ms; {N} in parallel {wall * 1000:.0f} ms "
                  f"(slowest {max(each) * 1000:.0f} ms; one after another ~{N * alone * 1000:.0f} ms); "
                  f"{await probe.stop()}")  # fmt: skip

        async def old_shape(n: int) -> None:
            async with database.write_session() as session:
                user = await repository.user_by_login(session, f"p{n}")
                assert user is not None
                await passwords.verify_password(PASSWORD, user.password_hash)
                await session.commit()

        probe = _Probe(database)
        started = time.perf_counter()
        await asyncio.gather(*(old_shape(n) for n in range(N)))
        wall = time.perf_counter() - started
        print(f"old shape (hash under the write lock): {N} in parallel {wall * 1000:.0f} ms; {await probe.stop()}")


if __name__ == "__main__":
    path = Path(sys.argv[1])
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    url = f"sqlite+aiosqlite:///{path}"
    stored: Any = PasswordHash.recommended().hash(PASSWORD)
    if "--sleep-hash" in sys.argv:
        passwords._hasher = _SleepyHasher()  # type: ignore[assignment]
    migrations.upgrade(Settings(database_url=url))
    asyncio.run(main(url, stored))
