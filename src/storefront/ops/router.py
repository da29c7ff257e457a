from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Literal

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from storefront import metrics
from storefront.context import ContextDep
from storefront.contract import plain_router
from storefront.database import Database
from storefront.log import get_logger
from storefront.webhooks.sender import backlog as webhook_backlog
from storefront.worker import queue_status

router = plain_router(tags=["operations"])
log = get_logger("storefront.ready")
CHECK_TIMEOUT_SECONDS = 2.0
FAVICON = resources.files("storefront.data").joinpath("favicon.ico").read_bytes()  # 192 bytes


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Literal["ok", "unavailable"]]


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """The app's icon, for browsers (docs, admin): a tiny shop front, shipped in the package."""
    return Response(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers. Touches no dependency."""
    return Health()


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(context: ContextDep) -> JSONResponse:
    """Readiness: the database (and Redis, when configured) answer."""
    checks = {"database": await _check(_ping_database(context.database), "database")}
    if context.redis is not None:
        checks["redis"] = await _check(context.redis.ping(), "redis")
    ok = all(value == "ok" for value in checks.values())
    body = Readiness(status="ready" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


async def _ping_database(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # A pooled SQLite connection keeps answering from a file that was moved or
        # deleted (and a new one would silently create an empty file): check that
        # the configured file itself still opens as a database.
        await asyncio.to_thread(_open_sqlite_file, url.database)


def _open_sqlite_file(path: str) -> None:
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    with closing(sqlite3.connect(uri, uri=True, timeout=CHECK_TIMEOUT_SECONDS)) as connection:
        connection.execute("PRAGMA schema_version").fetchone()


async def _check(probe: object, name: str) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness_check_failed", check=name, error=type(exc).__name__)
        return "unavailable"
    return "ok"


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics_endpoint(context: ContextDep) -> Response:
    """Prometheus metrics (restrict access at the edge)."""
    database = context.database
    with contextlib.suppress(Exception):  # a database outage must not hide the other metrics
        for status, count in (await queue_status(database)).items():
            metrics.EMAILS.labels(status).set(count)
        for status, count in (await webhook_backlog(database)).items():
            metrics.WEBHOOKS.labels(status).set(count)
    metrics.OPEN_STREAMS.set(context.streams.total)
    pool = database.engine.pool
    metrics.DB_POOL_IN_USE.set(pool.checkedout() if hasattr(pool, "checkedout") else 0)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
