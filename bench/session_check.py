"""What does checking the login session cost on every authenticated request?

Compares the lookup before sessions (`session.get(User, id)`) with the one now
done for every access token (the user joined with its session, by primary
keys), each in a fresh session as a request does, after a warm-up.

    .venv/bin/python bench/session_check.py sqlite+aiosqlite:///var/bench.db
    .venv/bin/python bench/session_check.py postgresql+asyncpg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select

from storefront import migrations
from storefront.auth.dependencies import user_for_access_token
from storefront.auth.tokens import AccessClaims
from storefront.config import Settings
from storefront.context import AppContext
from storefront.db import utcnow
from storefront.models import AuthSession, User

SAMPLES = 3000
WARM_UP = 300


async def _timed(check: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    for _ in range(WARM_UP):
        await check()
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        await check()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[94]


async def main(url: str) -> None:
    context = AppContext.create(Settings(database_url=url))
    database = context.database
    async with database.transaction() as session:
        stamp = time.time_ns()
        user = User(email=f"bench{stamp}@example.com", username=f"bench{stamp}", password_hash="!")  # noqa: S106 - no login
        session.add(user)
        await session.flush()
        auth_session = AuthSession(user_id=user.id, expires_at=utcnow() + timedelta(days=1))
        session.add(auth_session)
        await session.flush()
        user_id, session_id = user.id, auth_session.id

    async def before() -> None:
        async with database.read_session() as session:
            await session.get(User, user_id)

    async def now() -> None:
        async with database.read_session() as session:
            await user_for_access_token(session, AccessClaims(user_id=user_id, session_id=session_id, jti="jti"))

    async def rebuilt_each_time() -> None:
        async with database.read_session() as session:
            query = (
                select(User)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(User.id == user_id, AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                .where(AuthSession.expires_at > utcnow())
            )
            (await session.scalars(query)).first()

    checks = {"before: get(User)": before, "now: user+session": now, "query rebuilt per call": rebuilt_each_time}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in checks}
    for _ in range(2):  # interleaved rounds spread the noise of a busy machine
        for name, check in checks.items():
            results[name].append(await _timed(check))
    for name, runs in results.items():
        print(f"{name:24s} median {min(r[0] for r in runs):7.1f} us   p95 {min(r[1] for r in runs):7.1f} us")
    await context.stop()


if __name__ == "__main__":
    migrations.upgrade(Settings(database_url=sys.argv[1]))
    asyncio.run(main(sys.argv[1]))
