"""Where a request's time goes: Storefront and the plain app, in one process, side by side.

`make bench` measures throughput through a server and wrk; this measures each
app's own CPU per request (raw ASGI calls, no server, no network) for the
scenarios the plain app answers, over copies of one seeded SQLite database,
and with `--profile NAME` prints a pyinstrument profile of Storefront's
requests for that scenario (pyinstrument is not a dependency: `pip install
pyinstrument` into the venv first).

    PYTHONPATH=src .venv/bin/python bench/cpu_profile.py
    PYTHONPATH=src .venv/bin/python bench/cpu_profile.py --profile list --calls 500
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LIST_QUERY = "limit=20&category=kitchen&in_stock=true&sort=-price"
SEED_PASSWORD = "storefront-demo-password"  # every seeded customer's (src/storefront/tasks.py)
ADMIN = {"email": "profile-admin@example.com", "username": "profile_admin", "password": "profile-admin-passphrase"}


class Call:
    """One raw ASGI request; `status` and `body` of the last answer."""

    def __init__(self, method: str, path: str, query: str = "", token: str = "", body: bytes = b"") -> None:
        self.method, self.path, self.query, self.body = method, path, query, body
        self.headers = [(b"host", b"test"), (b"accept", b"*/*")]
        if token:
            self.headers.append((b"authorization", f"Bearer {token}".encode()))
        if body:
            self.headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        self.status = 0
        self.answer = b""

    async def __call__(self, app: Any) -> None:
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": self.method,
                 "scheme": "http", "path": self.path, "raw_path": self.path.encode(),
                 "query_string": self.query.encode(), "root_path": "", "headers": self.headers,
                 "client": ("127.0.0.1", 1234), "server": ("test", 80), "state": {}}  # fmt: skip
        await app(scope, receive, send)
        self.answer = b"".join(chunks)


def scenarios(token: str) -> dict[str, Callable[[], Call]]:
    order = json.dumps({"items": [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 1}]}).encode()
    return {
        "health": lambda: Call("GET", "/health"),
        "product_auth": lambda: Call("GET", "/api/v1/products/7", token=token),
        "list": lambda: Call("GET", "/api/v1/products", LIST_QUERY),
        "me": lambda: Call("GET", "/api/v1/users/me", token=token),
        "orders": lambda: Call("POST", "/api/v1/orders", token=token, body=order),
    }


async def cpu_per_call(app: Any, make: Callable[[], Call], calls: int) -> float:
    """Microseconds of process CPU per call, after a warm-up of a tenth as many."""
    for _ in range(max(calls // 10, 5)):
        await make()(app)
    started = time.process_time()
    for _ in range(calls):
        call = make()
        await call(app)
        if call.status >= 400:
            raise SystemExit(f"{call.method} {call.path} answered {call.status}: {call.answer[:300]!r}")
    return (time.process_time() - started) / calls * 1e6


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "storefront"), *args], env=env, check=True, capture_output=True)


def plain_app(env: dict[str, str]) -> Any:
    os.environ.update({"DATABASE_URL": env["PLAIN_DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"]})
    spec = importlib.util.spec_from_file_location("plain_app", HERE / "plain_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules["plain_app"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


async def measure(opts: argparse.Namespace, env: dict[str, str]) -> None:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport, AsyncClient

    from storefront.config import Settings
    from storefront.main import create_app

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    storefront = create_app(settings)
    async with LifespanManager(storefront) as ours, LifespanManager(plain_app(env)) as theirs:
        async with AsyncClient(transport=ASGITransport(app=ours.app), base_url="http://test") as client:
            admin = await client.post("/api/v1/auth/login", json={k: ADMIN[k] for k in ("username", "password")})
            headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            customer = await client.get("/api/v1/users", params={"role": "customer", "limit": 1}, headers=headers)
            username = customer.json()[0]["username"]
            login = await client.post("/api/v1/auth/login", json={"username": username, "password": SEED_PASSWORD})
            token = login.json()["access_token"]
        chosen = {name: make for name, make in scenarios(token).items() if name in opts.scenarios}
        print(f"{'scenario':14} {'Storefront':>12} {'plain':>12} {'ratio':>7}   µs CPU per request, {opts.calls} calls")
        for name, make in chosen.items():
            mine = await cpu_per_call(ours.app, make, opts.calls)
            plain = await cpu_per_call(theirs.app, make, opts.calls)
            print(f"{name:14} {mine:12.0f} {plain:12.0f} {plain / mine:7.2f}")
        if opts.profile and opts.flat:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(opts.calls):
                await chosen[opts.profile]()(ours.app)
            profile.disable()
            pstats.Stats(profile).sort_stats(opts.flat).print_stats(45)
        elif opts.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="enabled")
            with profiler:
                for _ in range(opts.calls):
                    await chosen[opts.profile]()(ours.app)
            print(profiler.output_text(unicode=True, color=False, show_all=opts.all, timeline=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--scenarios", type=lambda text: text.split(","), default=list(scenarios("")))
    parser.add_argument("--profile", choices=list(scenarios("")), help="print a pyinstrument profile of this one")
    parser.add_argument("--flat", choices=["tottime", "cumulative"], help="with --profile: cProfile's table instead")
    parser.add_argument("--all", action="store_true", help="with --profile: show library frames too")
    opts = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="storefront-profile-"))
    try:
        env = os.environ | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{directory}/storefront.db",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "STORAGE_URL": f"file://{directory}/uploads",
            "MAIL_DIR": str(directory / "mail"),
            "WORKER_EMBEDDED": "false",
            "RATE_LIMITS_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }
        cli(env, "db", "upgrade")
        cli(env, "create-admin", "--email", ADMIN["email"], "--username", ADMIN["username"], "--password",
            ADMIN["password"])  # fmt: skip
        cli(env, "seed", "--products", str(opts.products), "--users", "50", "--orders", "0")
        with sqlite3.connect(directory / "storefront.db") as db, sqlite3.connect(directory / "plain.db") as copy:
            db.execute("UPDATE products SET stock = 1000000, archived = 0 WHERE id IN (1, 2)")  # orders never fail
            db.execute("UPDATE product_variants SET stock = 1000000, archived = 0 WHERE product_id IN (1, 2)")
            db.commit()
            db.backup(copy)
        env["PLAIN_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory}/plain.db"
        os.environ.update({k: v for k, v in env.items() if k != "PLAIN_DATABASE_URL"})
        asyncio.run(measure(opts, env))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
