"""Storefront's load benchmark: `make bench`, or `.venv/bin/python bench/run.py`.

Runs the service as users run it (its own CLI: `db upgrade`, `create-admin`,
`seed`, `serve`) on SQLite with one worker and on PostgreSQL + Redis with one
and two workers, drives it over loopback with wrk (Lua scripts in bench/lua/),
and in the same run drives two yardsticks: a bare ASGI app answering the same
JSON (bench/reference_app.py), the ceiling, and in each configuration a plain
FastAPI app (bench/plain_app.py) serving the same queries over a copy of the
seeded database. Every result is also a ratio to both. Each scenario reports
requests/s, p50/p99 latency, errors, server CPU per request and the peak
resident memory (from /proc) of every server process; then the targets are
checked.

Everything talks to 127.0.0.1 only and every step is bounded in time. A fresh
temporary directory (SQLite files, logs) and, for PostgreSQL, fresh databases
are made per configuration and removed at the end.

    .venv/bin/python bench/run.py                  # the full run (about 14 minutes)
    .venv/bin/python bench/run.py --quick          # a smoke run (about 4 minutes)
    .venv/bin/python bench/run.py --only sqlite --markdown /tmp/bench.md
    .venv/bin/python bench/run.py --quick --only sqlite --scenarios product_auth,list
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
LUA = HERE / "lua"
HOST = "127.0.0.1"
PG_URL = "postgresql://postgres@127.0.0.1:5432/"
REDIS_URL = "redis://127.0.0.1:6379/0"
SEED_PASSWORD = "storefront-demo-password"  # every seeded customer's (src/storefront/tasks.py)
ADMIN = {"email": "bench-admin@example.com", "username": "bench_admin", "password": "bench-admin-passphrase"}
PRODUCTS, USERS = 1000, 200
HOT_PRODUCTS = list(range(1, 9))  # the orders scenario buys among these: contention on their stock rows
ETAG_PRODUCTS = range(11, 211)  # the If-None-Match scenario knows these products' current ETags
TOKEN_USERS = 20  # customers logged in for /users/me and the orders
LIST_QUERY = "/api/v1/products?limit=20&category=kitchen&in_stock=true&sort=-price"
CONNECTIONS = 64
WRK_TIMEOUT_S = 10  # a request unanswered after this long counts as a timeout error
MB = 1_000_000


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    script: str
    path: str = "/"
    connections: int = CONNECTIONS
    expect: int = 200  # the status a sanity request must get before the load starts


SCENARIOS = [
    Scenario("health", "GET /health", "plain.lua", "/health"),
    Scenario("product", "GET /api/v1/products/{id}", "product.lua"),
    # Storefront's cache fast path answers anonymous reads only: this one goes through routing and auth.
    Scenario("product_auth", "GET /api/v1/products/{id} (bearer)", "product.lua"),
    Scenario("product_304", "GET /api/v1/products/{id} + If-None-Match", "product.lua", expect=304),
    Scenario("list", "GET /api/v1/products?limit=20 (filter, sort)", "plain.lua", LIST_QUERY),
    Scenario("me", "GET /api/v1/users/me (bearer)", "me.lua"),
    Scenario("product_512", "GET /api/v1/products/{id}, 512 connections", "product.lua", connections=512),
    Scenario("orders", "POST /api/v1/orders (1-3 of 8 hot products)", "orders.lua", expect=201),
    Scenario("login", "POST /api/v1/auth/login", "login.lua", connections=20),
]
# Two wrk processes at once: login (20 connections) and /health (64).
LOGIN_HEALTH = Scenario("login+health", "GET /health while 20 clients log in", "plain.lua", "/health")
# What bench/plain_app.py answers; it runs each right after Storefront does.
PLAIN_SCENARIOS = frozenset({"health", "product", "product_auth", "list", "me", "orders"})
# A read of one product or user: the plain app's answer must be Storefront's, value for value.
SAME_VALUES = frozenset({"product", "product_auth", "me"})


def scenario_names(text: str) -> list[str]:
    """`--scenarios a,b,c`: names from SCENARIOS and `login+health`."""
    known = [s.name for s in SCENARIOS] + [LOGIN_HEALTH.name]
    names = [name.strip() for name in text.split(",") if name.strip()]
    if unknown := [name for name in names if name not in known]:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def selected(opts: argparse.Namespace) -> list[Scenario]:
    """The scenarios of this run, in the order of SCENARIOS."""
    return [s for s in SCENARIOS if opts.scenarios is None or s.name in opts.scenarios]


@dataclass(frozen=True)
class Config:
    name: str
    database: str  # "sqlite" or "postgres"
    workers: int


CONFIGS = [
    Config("SQLite, 1 worker", "sqlite", 1),
    Config("PostgreSQL + Redis, 1 worker", "postgres", 1),
    Config("PostgreSQL + Redis, 2 workers", "postgres", 2),
]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- resident memory, from /proc ----------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def cpu_meter(result: dict[str, Any]) -> Iterator[None]:
    """Puts the cores wrk and the whole machine kept busy meanwhile into `result`."""
    started, machine, wrk = time.monotonic(), machine_cpu_seconds(), children_cpu_seconds()
    yield
    elapsed = max(time.monotonic() - started, 1e-6)
    result["wrk_cores"] = (children_cpu_seconds() - wrk) / elapsed
    result["machine_cores"] = (machine_cpu_seconds() - machine) / elapsed


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                found += [int(child), *descendants(int(child))]
    return found


def process_label(pid: int, root: int) -> str:
    if pid == root:
        return "main"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return f"pid {pid}"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    return "worker"


class RssSampler:
    """Samples the RSS of a server process and all its descendants every 50 ms."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.labels: dict[int, str] = {}
        self.peak: dict[int, int] = {}  # since the last mark()
        self.overall: dict[int, int] = {}
        self.cpu: dict[int, float] = {}  # CPU seconds of each process at the last mark()
        self.marked = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.05)

    def sample(self) -> dict[int, int]:
        now = {pid: rss_bytes(pid) for pid in [self.root, *descendants(self.root)]}
        with self._lock:
            for pid, value in now.items():
                if not value:
                    continue
                if pid not in self.labels:
                    self.labels[pid] = process_label(pid, self.root)
                self.peak[pid] = max(self.peak.get(pid, 0), value)
                self.overall[pid] = max(self.overall.get(pid, 0), value)
        return now

    def mark(self) -> tuple[dict[str, int], float]:
        """The peak RSS per process and the CPU used (in cores) since the previous mark; then start again."""
        now, pids = time.monotonic(), [self.root, *descendants(self.root)]
        cpu = {pid: cpu_seconds(pid) for pid in pids}
        with self._lock:
            peaks = self._named(self.peak)
            self.peak = {}
            used = sum(value - self.cpu.get(pid, 0.0) for pid, value in cpu.items())
            cores = used / max(now - self.marked, 1e-6)
            self.cpu, self.marked = cpu, now
        return peaks, cores

    def overall_peaks(self) -> dict[str, int]:
        with self._lock:
            return self._named(self.overall)

    def current(self) -> dict[str, int]:
        now = self.sample()
        with self._lock:
            return self._named({pid: value for pid, value in now.items() if value})

    def _named(self, values: dict[int, int]) -> dict[str, int]:
        named: dict[str, int] = {}
        workers = 0
        for pid in sorted(values):
            label = self.labels.get(pid, f"pid {pid}")
            if label == "worker":
                workers += 1
                label = f"worker {workers}"
            named[label] = values[pid]
        return named

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def connections_by_process(sampler: RssSampler, port: int) -> dict[str, int]:
    """How the established client connections on `port` are spread over the server's processes."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
    counts: dict[int, int] = {}
    for pid in [sampler.root, *descendants(sampler.root)]:
        with contextlib.suppress(OSError):
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            counts[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return {name: n for name, n in sampler._named(counts).items() if n}


def record_connections(into: dict[str, int], sampler: RssSampler, port: int) -> None:
    into.update(connections_by_process(sampler, port))


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    log_path: Path
    sampler: RssSampler = field(init=False)

    def __post_init__(self) -> None:
        self.sampler = RssSampler(self.process.pid)

    def wait_ready(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no log)"

    def stop(self) -> int | None:
        self.sampler.stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def start(name: str, command: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    log_path = cwd / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    return process, log_path.name, log_path


def start_server(name: str, command: list[str], port: int, env: dict[str, str], cwd: Path, ready: str) -> Server:
    process, _, log_path = start(name, command, env, cwd)
    server = Server(name, process, f"http://{HOST}:{port}", log_path)
    try:
        server.wait_ready(ready)
    except BaseException:
        server.stop()
        raise
    return server


# --- wrk ----------------------------------------------------------------------------------------


@dataclass
class Load:
    """What one scenario's load needs: script arguments and the sanity request."""

    args: dict[str, list[str]]  # script file -> arguments after `--`
    headers: dict[str, dict[str, str]]  # scenario name -> headers of the sanity request


def wrk_command(scenario: Scenario, base: str, load: Load, duration: float, threads: int) -> list[str]:
    args = load.args.get(scenario.name, load.args.get(scenario.script, []))
    return [
        "wrk",
        f"-t{min(threads, scenario.connections)}",
        f"-c{scenario.connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "-s",
        str(LUA / scenario.script),
        base + scenario.path,
        "--",
        *args,
    ]


def parse_wrk(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            e = result["errors"]
            result["socket_errors"] = e["connect"] + e["read"] + e["write"] + e["timeout"]
            return result
    raise RuntimeError(f"wrk printed no result:\n{stdout}")


def run_wrk(command: list[str], duration: float) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_S + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def sanity_check(server: Server, scenario: Scenario, load: Load) -> httpx.Response:
    """One request as the scenario will send it, so that a broken setup fails loudly, not fast."""
    headers = load.headers.get(scenario.name, {})
    if scenario.name == "orders":
        items = [{"product_id": HOT_PRODUCTS[0], "quantity": 1}]
        response = httpx.post(server.base + "/api/v1/orders", json={"items": items}, headers=headers, timeout=30)
    elif scenario.name == "login":
        body = {"username": load.args["login.lua"][1], "password": SEED_PASSWORD}
        response = httpx.post(server.base + "/api/v1/auth/login", json=body, timeout=30)
    else:
        path = scenario.path if scenario.script == "plain.lua" else "/api/v1/products/" + str(ETAG_PRODUCTS[0])
        if scenario.name == "me":
            path = "/api/v1/users/me"
        response = httpx.get(server.base + path, headers=headers, timeout=30)
    if response.status_code != scenario.expect:
        raise RuntimeError(
            f"{server.name}: {scenario.title}: expected {scenario.expect}, got {response.status_code}: "
            f"{response.text[:300]}"
        )
    return response


def shape(value: Any) -> Any:
    """The keys and JSON types of a body (a list by its first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_answer(scenario: Scenario, storefront: httpx.Response, plain: httpx.Response) -> None:
    """The plain app must answer what Storefront answers, or the comparison compares nothing."""
    ours, theirs = storefront.json(), plain.json()
    differs = shape(ours) != shape(theirs) or (scenario.name in SAME_VALUES and ours != theirs)
    if differs or storefront.headers.get("x-total-count") != plain.headers.get("x-total-count"):
        raise RuntimeError(
            f"the plain app answers {scenario.title} unlike Storefront:\n"
            f"Storefront ({storefront.headers.get('x-total-count')}): {storefront.text[:400]}\n"
            f"plain app ({plain.headers.get('x-total-count')}): {plain.text[:400]}"
        )


def measure(
    server: Server, load: Load, opts: argparse.Namespace, scenario: Scenario, label: str = ""
) -> dict[str, Any]:
    """Warm-up, then one scenario's load, with the server's CPU and memory meanwhile."""
    if opts.warmup:
        run_wrk(wrk_command(scenario, server.base, load, opts.warmup, opts.threads), opts.warmup)
    server.sampler.mark()
    cpu: dict[str, Any] = {}
    split: dict[str, int] = {}
    port = int(server.base.rsplit(":", 1)[1])
    timer = threading.Timer(opts.duration / 2, record_connections, (split, server.sampler, port))
    timer.start()
    with cpu_meter(cpu):
        result = run_wrk(wrk_command(scenario, server.base, load, opts.duration, opts.threads), opts.duration)
        result["rss"], result["cpu_cores"] = server.sampler.mark()
    timer.cancel()
    result |= cpu | {"connections_by_process": split}
    result["connections"] = scenario.connections
    log(
        f"  {label + scenario.title:52} {result['rps']:9.0f} req/s  p50 {result['latency_us']['p50'] / 1000:7.1f} ms"
        f"  p99 {result['latency_us']['p99'] / 1000:7.1f} ms  errors {result['errors']['status']}"
        f"+{result['socket_errors']}  cpu {cpu_cell(result)}  rss {fmt_rss(result['rss'])}"
    )
    return result


def run_scenarios(server: Server, load: Load, opts: argparse.Namespace, scenarios: list[Scenario]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for scenario in scenarios:
        sanity_check(server, scenario, load)
        results[scenario.name] = measure(server, load, opts, scenario)
    return results


def run_login_health(server: Server, load: Load, opts: argparse.Namespace) -> dict[str, Any]:
    """wrk on login (20 connections) and wrk on /health (64) at the same time."""
    login = next(s for s in SCENARIOS if s.name == "login")
    sanity_check(server, login, load)
    server.sampler.mark()
    commands = [
        wrk_command(login, server.base, load, opts.duration, opts.threads),
        wrk_command(LOGIN_HEALTH, server.base, load, opts.duration, opts.threads),
    ]
    cpu: dict[str, Any] = {}
    with cpu_meter(cpu):
        processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
        outputs = [p.communicate(timeout=opts.duration + WRK_TIMEOUT_S + 30) for p in processes]
        rss, cores = server.sampler.mark()
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}): {stderr}")
    login_result, health_result = (parse_wrk(stdout) for stdout, _ in outputs)
    health_result |= cpu | {"rss": rss, "cpu_cores": cores}
    health_result["connections"] = LOGIN_HEALTH.connections
    health_result["login"] = login_result
    log(
        f"  {LOGIN_HEALTH.title:52} {health_result['rps']:9.0f} req/s  p99 "
        f"{health_result['latency_us']['p99'] / 1000:7.1f} ms (login {login_result['rps']:.0f} req/s, "
        f"p99 {login_result['latency_us']['p99'] / 1000:.1f} ms)"
    )
    return health_result


def cpu_per_request(result: dict[str, Any]) -> str:
    """Server CPU time per answered request: steadier than requests/s on a machine others share."""
    if not result["requests"]:
        return "-"
    return f"{result['cpu_cores'] * 1000 / result['rps']:.2f}"


def cpu_cell(result: dict[str, Any]) -> str:
    return f"{result['cpu_cores']:.2f} / {result['wrk_cores']:.2f} / {result['machine_cores']:.2f}"


def fmt_rss(rss: dict[str, int]) -> str:
    return " / ".join(f"{name} {value / MB:.0f}" for name, value in rss.items()) + " MB"


# --- the reference app --------------------------------------------------------------------------


def reference_load() -> Load:
    """Arguments of the same size and shape as the real ones; the reference accepts anything."""
    tokens = ["e" * 250] * TOKEN_USERS
    return Load(
        args={
            "product": ["1", str(PRODUCTS)],
            "product_auth": ["1", str(PRODUCTS), *(f"bearer={token}" for token in tokens)],
            "product_512": ["1", str(PRODUCTS)],
            "product_304": ["1", str(PRODUCTS), *(f'{n}="product-{n}-v1"' for n in ETAG_PRODUCTS)],
            "me.lua": tokens,
            "orders.lua": [",".join(map(str, HOT_PRODUCTS)), *tokens],
            "login.lua": [SEED_PASSWORD, *(f"ada_lovelace_{n}" for n in range(2, USERS + 2))],
        },
        headers={"product_304": {"If-None-Match": f'"product-{ETAG_PRODUCTS[0]}-v1"'}},
    )


def bench_reference(workdir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, str(HERE / "reference_app.py"), "--port", str(port)]
    server = start_server("reference app", command, port, dict(os.environ), workdir, "/health")
    log(f"reference app (bare ASGI, uvicorn uvloop/httptools, 1 worker) on port {port}")
    try:
        results = run_scenarios(server, reference_load(), opts, selected(opts))
        return {"scenarios": results, "peak_rss": server.sampler.overall_peaks()}
    finally:
        server.stop()


# --- Storefront ---------------------------------------------------------------------------------


async def _postgres(statement: str, database: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(PG_URL + database, timeout=5)
    try:
        if statement == "version":
            return str(await connection.fetchval("SHOW server_version"))
        await connection.execute(statement)
        return ""
    finally:
        await connection.close()


def postgres(statement: str, database: str = "postgres") -> str:
    return asyncio.run(_postgres(statement, database))


def redis_version() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


@contextlib.contextmanager
def database_for(config: Config, workdir: Path) -> Iterator[dict[str, str]]:
    """The environment naming a fresh database (dropped afterwards) for one configuration."""
    if config.database == "sqlite":
        yield {"DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/storefront.db"}
        return
    name = f"storefront_bench_{secrets.token_hex(4)}"
    postgres(f"CREATE DATABASE {name}")
    try:
        yield {"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "REDIS_URL": REDIS_URL}
    finally:
        postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# The plain app's copy gets the stock Storefront's hot products get through its API in prepare().
HOT_IDS = ", ".join(str(int(n)) for n in HOT_PRODUCTS)
# Seeded hot products have one variant each (the seed's shirts come last): its stock and theirs.
REFILL = (
    f"UPDATE products SET stock = stock + 1000000 WHERE id IN ({HOT_IDS})",  # noqa: S608 (our own integers)
    f"UPDATE product_variants SET stock = stock + 1000000 WHERE product_id IN ({HOT_IDS})",  # noqa: S608
)


@contextlib.contextmanager
def database_copy(config: Config, database: dict[str, str], workdir: Path) -> Iterator[dict[str, str]]:
    """The environment naming a copy of the seeded database for the plain app (dropped afterwards).

    Made before Storefront serves, so that no connection is open to the original,
    as PostgreSQL's `CREATE DATABASE ... TEMPLATE` requires; each app then writes
    its own orders and stock.
    """
    original = database["DATABASE_URL"]
    if config.database == "sqlite":
        target = workdir / "plain.db"
        # SQLite's backup API copies a consistent database, whatever is still in its WAL.
        with (
            contextlib.closing(sqlite3.connect(original.split("///", 1)[1])) as source,
            contextlib.closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
            for statement in REFILL:
                copy.execute(statement)
            copy.commit()
        yield {"DATABASE_URL": f"sqlite+aiosqlite:///{target}"}
        return
    name = original.rsplit("/", 1)[1]
    copy_name = f"{name}_plain"
    for attempt in range(10):  # the seeding process's connections may take a moment to go
        try:
            postgres(f"CREATE DATABASE {copy_name} TEMPLATE {name}")
            break
        except Exception as exc:
            if "being accessed by other users" not in str(exc) or attempt == 9:
                raise
            time.sleep(0.5)
    try:
        for statement in REFILL:
            postgres(statement, copy_name)
        yield {"DATABASE_URL": original.rsplit("/", 1)[0] + "/" + copy_name}
    finally:
        postgres(f"DROP DATABASE IF EXISTS {copy_name} WITH (FORCE)")


def storefront_env(database: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "APP_ENV", "PORT", "HOST"}}
    return (
        env
        | database
        | {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS_ENABLED": "false",  # the login scenario logs the same accounts in thousands of times
        }
    )


def prepare(server: Server) -> Load:
    """Tokens, usernames, ETags and stock, all through the API."""
    with httpx.Client(base_url=server.base, timeout=60) as client:

        def login(username: str, password: str) -> str:
            response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
            response.raise_for_status()
            return str(response.json()["access_token"])

        admin = {"Authorization": "Bearer " + login(ADMIN["username"], ADMIN["password"])}
        usernames: list[str] = []
        while len(usernames) < USERS:
            page = client.get(
                "/api/v1/users", params={"role": "customer", "limit": 100, "skip": len(usernames)}, headers=admin
            )
            page.raise_for_status()
            if not page.json():
                break
            usernames += [user["username"] for user in page.json()]
        tokens = [login(username, SEED_PASSWORD) for username in usernames[:TOKEN_USERS]]
        for product_id in HOT_PRODUCTS:  # enough stock that no order fails for want of it
            client.post(f"/api/v1/products/{product_id}/stock", json={"delta": 1_000_000}, headers=admin)
        etags = [f"{n}={client.get(f'/api/v1/products/{n}').headers['etag']}" for n in ETAG_PRODUCTS]
    return Load(
        args={
            "product": ["1", str(PRODUCTS)],
            "product_auth": ["1", str(PRODUCTS), *(f"bearer={token}" for token in tokens)],
            "product_512": ["1", str(PRODUCTS)],
            "product_304": ["1", str(PRODUCTS), *etags],
            "me.lua": tokens,
            "orders.lua": [",".join(map(str, HOT_PRODUCTS)), *tokens],
            "login.lua": [SEED_PASSWORD, *usernames],
        },
        headers={
            "product_304": {"If-None-Match": etags[0].split("=", 1)[1]},
            "product_auth": {"Authorization": f"Bearer {tokens[0]}"},
            "me": {"Authorization": f"Bearer {tokens[0]}"},
            "orders": {"Authorization": f"Bearer {tokens[0]}"},
        },
    )


def start_plain(config: Config, env: dict[str, str], directory: Path) -> Server:
    """bench/plain_app.py with as many workers as Storefront, over the database `env` names."""
    port = free_port()
    command = [sys.executable, str(HERE / "plain_app.py"), "--port", str(port), "--workers", str(config.workers)]
    server = start_server(f"plain app, {config.name}", command, port, env, directory, "/health")
    log(f"{config.name}: the plain app (bench/plain_app.py, {config.workers} worker(s)) is ready on port {port}")
    return server


def finish(
    server: Server, idle: dict[str, int], results: dict[str, Any], clean: tuple[int | None, ...] = (0, None)
) -> dict[str, Any]:
    """Stops `server`: its results, and its memory when ready, at its peak and after the load."""
    after, peaks = server.sampler.current(), server.sampler.overall_peaks()
    code = server.stop()
    if code not in clean:
        log(f"{server.name}: the server exited with {code}:\n{server.log_tail()}")
    return {"scenarios": results, "rss_idle": idle, "peak_rss": peaks, "rss_after": after, "exit_code": code}


def bench_storefront(config: Config, workdir: Path, opts: argparse.Namespace) -> dict[str, Any]:
    directory = workdir / re.sub(r"[^a-z0-9]+", "-", config.name.lower())
    directory.mkdir()
    scenarios = selected(opts)
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(database_for(config, directory))
        env = storefront_env(database)

        def cli(*args: str) -> None:
            done = subprocess.run(
                [str(BIN / "storefront"), *args], env=env, cwd=directory, capture_output=True, text=True, timeout=600
            )
            if done.returncode != 0:
                raise RuntimeError(f"storefront {' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

        log(f"{config.name}: db upgrade, create-admin, seed --products {PRODUCTS} --users {USERS} --orders 0")
        cli("db", "upgrade")
        cli("create-admin", "--email", ADMIN["email"], "--username", ADMIN["username"], "--password", ADMIN["password"])
        cli("seed", "--products", str(PRODUCTS), "--users", str(USERS), "--orders", "0")
        plain_env = None
        if any(scenario.name in PLAIN_SCENARIOS for scenario in scenarios):
            plain_env = env | stack.enter_context(database_copy(config, database, directory))
        port = free_port()
        command = [str(BIN / "storefront"), "serve", "--port", str(port), "--workers", str(config.workers)]
        server = start_server(config.name, command, port, env, directory, "/ready")
        log(f"{config.name}: `storefront serve --port {port} --workers {config.workers}` is ready")
        stack.callback(server.stop)  # on failure; finish() stops it otherwise (stopping twice is harmless)
        idle = server.sampler.current()
        load = prepare(server)
        plain: Server | None = None
        plain_idle: dict[str, int] = {}
        if plain_env is not None:
            plain = start_plain(config, plain_env, directory)
            stack.callback(plain.stop)
            plain_idle = plain.sampler.current()
        results: dict[str, Any] = {}
        plain_results: dict[str, Any] = {}
        # Each scenario runs on the plain app right after Storefront, so both meet the same other load.
        for scenario in scenarios:
            answer = sanity_check(server, scenario, load)
            results[scenario.name] = measure(server, load, opts, scenario)
            if plain is not None and scenario.name in PLAIN_SCENARIOS:
                same_answer(scenario, answer, sanity_check(plain, scenario, load))
                plain_results[scenario.name] = measure(plain, load, opts, scenario, "plain app: ")
        if opts.login_health:
            results["login+health"] = run_login_health(server, load, opts)
        time.sleep(1)
        data = finish(server, idle, results)
        if plain is not None:
            # Plain uvicorn ends by re-raising the SIGTERM it was stopped with.
            data["plain"] = finish(plain, plain_idle, plain_results, clean=(0, None, -signal.SIGTERM))
        return data


# --- the report ---------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("Copyright")[0].strip()
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
        "memory": f"{int(memory.group(1)) / 1024**2:.1f} GiB" if memory else "unknown",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk,
        "load average at start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=HERE, capture_output=True, text=True)
    info["storefront"] = f"{metadata.version('storefront')} (git {git.stdout.strip() or 'unknown'})"
    for package in ("fastapi", "starlette", "uvicorn", "sqlalchemy", "pydantic"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[package] = metadata.version(package)
    return info


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def ratio(result: dict[str, Any], reference: dict[str, Any] | None) -> str:
    return f"{result['rps'] / reference['rps']:.3f}" if reference else "-"


def errors_cell(result: dict[str, Any], name: str) -> str:
    e = result["errors"]
    status = e["status"]
    parts = []
    if name == "orders":
        stock = result["statuses"].get("s409", 0)
        status -= stock
        parts.append(f"409 out of stock: {stock}")
    socket_kinds = ", ".join(f"{e[k]} {k}" for k in ("connect", "read", "write", "timeout") if e[k])
    parts.insert(0, str(status + result["socket_errors"]) + (f" ({socket_kinds})" if socket_kinds else ""))
    return "; ".join(parts)


TITLES = {s.name: s.title for s in [*SCENARIOS, LOGIN_HEALTH]}


def table(results: dict[str, Any], reference: dict[str, Any] | None) -> list[str]:
    lines = [
        "| Scenario | Conns | Requests/s | p50 ms | p99 ms | Errors | Ratio to reference | Server CPU ms/request "
        "| CPU cores: server / wrk / machine | Peak RSS (MB) |",
        "|---|--:|--:|--:|--:|---|--:|--:|--:|---|",
    ]
    for name, result in results.items():
        ref = (reference or {}).get(name)
        if name == "login+health":
            ref = (reference or {}).get("health")
        lines.append(
            f"| {TITLES[name]} | {result['connections']} | {result['rps']:,.0f} | {ms(result['latency_us']['p50'])} "
            f"| {ms(result['latency_us']['p99'])} | {errors_cell(result, name)} | {ratio(result, ref)} "
            f"| {cpu_per_request(result) if name != 'login+health' else 'both: -'} "
            f"| {cpu_cell(result)} | {fmt_rss(result['rss']).removesuffix(' MB')} |"
        )
        if name == "login+health":
            login = result["login"]
            lines.append(
                f"| ↳ at the same time: POST /api/v1/auth/login | 20 | {login['rps']:,.0f} "
                f"| {ms(login['latency_us']['p50'])} | {ms(login['latency_us']['p99'])} "
                f"| {errors_cell(login, 'login')} | - | - | (same) | (same) |"
            )
    return lines


def comparison(storefront: dict[str, Any], plain: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Storefront's results beside the plain app's and the reference's in the same scenarios."""
    lines = [
        "| Scenario | Requests/s: Storefront / plain / reference | Storefront ÷ plain | Storefront ÷ reference "
        "| Plain ÷ reference | Server CPU ms/request: Storefront / plain / reference |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, result in storefront.items():
        if name not in plain:
            continue
        three = (result, plain[name], reference.get(name))
        rps = " / ".join(f"{r['rps']:,.0f}" if r else "-" for r in three)
        cpu = " / ".join(cpu_per_request(r) if r else "-" for r in three)
        lines.append(
            f"| {TITLES[name]} | {rps} | {ratio(result, plain[name])} | {ratio(result, three[2])} "
            f"| {ratio(plain[name], three[2])} | {cpu} |"
        )
    return lines


def check(label: str, met: bool, detail: str) -> dict[str, Any]:
    return {"target": label, "met": met, "detail": detail}


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The performance targets whose scenarios were run (`--scenarios` may leave some out)."""
    checks: list[dict[str, Any]] = []
    ref = report["reference"]["scenarios"]
    configs = {name: data for name, data in report["configs"].items() if "scenarios" in data}
    for name, data in configs.items():
        if not name.endswith("1 worker"):
            continue  # the targets compare one worker with one
        ours, plain = data["scenarios"], data.get("plain", {}).get("scenarios", {})
        for scenario in ("product_auth", "list", "me", "orders"):
            if scenario in ours and scenario in plain:
                r = ours[scenario]["rps"] / plain[scenario]["rps"]
                checks.append(
                    check(
                        f"{name}: {scenario} >= 1.0x the plain FastAPI app",
                        r >= 1.0,
                        f"{r:.2f}x ({ours[scenario]['rps']:,.0f} vs {plain[scenario]['rps']:,.0f} req/s)",
                    )
                )
    s = configs.get("SQLite, 1 worker", {}).get("scenarios", {})
    for scenario, floor in (("health", 0.20), ("product", 0.35)):
        if scenario in s and scenario in ref:
            r = s[scenario]["rps"] / ref[scenario]["rps"]
            checks.append(
                check(
                    f"{scenario}: >= {floor:.2f} of the bare ASGI app",
                    r >= floor,
                    f"{r:.3f} ({s[scenario]['rps']:,.0f} vs {ref[scenario]['rps']:,.0f} req/s)",
                )
            )
    one = configs.get("PostgreSQL + Redis, 1 worker", {}).get("scenarios", {})
    two = configs.get("PostgreSQL + Redis, 2 workers", {}).get("scenarios", {})
    if "product_auth" in one and "product_auth" in two:
        gain = two["product_auth"]["rps"] / one["product_auth"]["rps"]
        checks.append(
            check(
                "PostgreSQL + Redis: 2 workers >= 1.8x 1 worker on the authenticated product read",
                gain >= 1.8,
                f"{gain:.2f}x ({two['product_auth']['rps']:,.0f} vs {one['product_auth']['rps']:,.0f} req/s)",
            )
        )
    idle = [(n, label, v) for n, data in configs.items() for label, v in data.get("rss_idle", {}).items()]
    after = [(n, label, v) for n, data in configs.items() for label, v in data.get("rss_after", {}).items()]
    serving = [entry for entry in idle + after if entry[1] != "resource tracker"]
    if serving:
        ready = max((e for e in idle if e[1] != "resource tracker"), key=lambda e: e[2])
        checks.append(
            check(
                "RSS per serve worker < 120 MB when ready",
                ready[2] < 120 * MB,
                f"highest {ready[2] / MB:.0f} MB ({ready[0]}, {ready[1]})",
            )
        )
        done = max((e for e in after if e[1] != "resource tracker"), key=lambda e: e[2])
        checks.append(
            check(
                "RSS per serve worker < 150 MB after the whole benchmark",
                done[2] < 150 * MB,
                f"highest {done[2] / MB:.0f} MB ({done[0]}, {done[1]})",
            )
        )
    for name, data in configs.items():
        if big := data["scenarios"].get("product_512"):
            bad = big["errors"]["status"] + big["socket_errors"]
            p99 = big["latency_us"]["p99"] / 1000
            checks.append(
                check(
                    f"{name}: 512 connections: no errors, p99 < 1 s",
                    bad == 0 and big["requests"] > 0 and p99 < 1000,
                    f"{big['requests']:,} answered, {errors_cell(big, 'product_512')} errors, p99 {p99:.0f} ms",
                )
            )
    return checks


def server_section(data: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """One server's table, how wrk's connections fell on its workers, and its memory."""
    out = table(data["scenarios"], reference)
    splits = {
        name: " / ".join(f"{n}" for n in result["connections_by_process"].values())
        for name, result in data["scenarios"].items()
        if len(result.get("connections_by_process", {})) > 1 or name == "product_304"
    }
    if any("/" in split for split in splits.values()):
        spread = "; ".join(f"{name} {split}" for name, split in splits.items())
        out += ["", f"wrk's connections per worker process, counted midway through each scenario: {spread}."]
    out += [
        "",
        f"RSS when ready, before any load: {fmt_rss(data.get('rss_idle', {}))}; peak over the whole run: "
        f"{fmt_rss(data['peak_rss'])}; after the run: {fmt_rss(data['rss_after'])}.",
    ]
    return out


RESULTS, NEXT_SECTION = "## Results\n", "\n## Where the time goes"


def write_results(path: Path, report: dict[str, Any], text: str) -> None:
    """This run's report as the "Results" section of `path` (docs/benchmarks.md)."""
    document = path.read_text()
    start, end = document.index(RESULTS) + len(RESULTS), document.index(NEXT_SECTION)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    intro = (
        f"\nThe last full run, {when}, written here by `make bench` ({report['elapsed_s']} s): 10 s per\n"
        "scenario after 2 s of warm-up, `wrk -t1 --timeout 10s`. Errors are responses >= 400 plus socket\n"
        "errors and timeouts (409 out of stock apart); ratios are requests/s of the same scenario in the same run.\n\n"
    )
    path.write_text(document[:start] + intro + text.rstrip() + "\n" + document[end:])


def markdown(report: dict[str, Any]) -> str:
    out = [f"Command: `{report['command']}`", "", "| Machine | |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in report["machine"].items()]
    ref = report["reference"]["scenarios"]
    out += ["", "### Reference: bare ASGI app (bench/reference_app.py), 1 worker", ""]
    out += table(ref, None)
    for name, data in report["configs"].items():
        out += ["", f"### Storefront: {name}", ""]
        if "error" in data:
            out.append(f"Not measured: {data['error']}")
            continue
        out += server_section(data, ref)
        if plain := data.get("plain"):
            out += ["", f"#### Plain FastAPI app (bench/plain_app.py) on a copy of the database: {name}", ""]
            out += server_section(plain, ref)
            out += ["", f"#### Storefront against the plain app and the reference: {name}", ""]
            out += comparison(data["scenarios"], plain["scenarios"], ref)
    out += ["", "### Targets", ""]
    for item in report["targets"]:
        out.append(
            f"- [{'x' if item['met'] else ' '}] **{'met' if item['met'] else 'MISSED'}**: "
            f"{item['target']} — {item['detail']}"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Storefront's load benchmark (wrk over loopback).")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unmeasured load before each (default 2)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s per scenario, 1 s warm-up")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the server needs the cores)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    parser.add_argument("--docs", type=Path, help='write the report as the "Results" section of this file')
    parser.add_argument("--render", type=Path, metavar="JSON", help="only print the report of earlier --json results")
    parser.add_argument(
        "--scenarios",
        type=scenario_names,
        metavar="A,B,...",
        help=f"only these scenarios, e.g. product_auth,list,me,orders (all: {', '.join(TITLES)})",
    )
    opts = parser.parse_args()
    opts.login_health = opts.scenarios is None or LOGIN_HEALTH.name in opts.scenarios
    if opts.render:
        report = json.loads(opts.render.read_text())
        report["targets"] = targets(report)
        print(markdown(report))
        return
    if opts.quick:
        opts.duration, opts.warmup = 2, 1
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install -y wrk)")
    # 512 connections, both ends in processes started from here.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))

    configs = [c for c in CONFIGS if opts.only in (None, c.database)]
    report: dict[str, Any] = {
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "wrk_threads": opts.threads,
            "wrk_timeout_s": WRK_TIMEOUT_S,
            "scenarios": [s.name for s in selected(opts)] + [LOGIN_HEALTH.name] * opts.login_health,
        },
        "configs": {},
    }
    if any(c.database == "postgres" for c in configs):
        try:
            report["machine"]["postgresql"] = postgres("version")
            report["machine"]["redis"] = redis_version()
        except Exception as exc:
            if opts.only == "postgres":
                sys.exit(f"PostgreSQL or Redis is not reachable on 127.0.0.1: {exc}")
            log(f"PostgreSQL or Redis is not reachable ({exc}): the PostgreSQL configurations are skipped")
            for config in configs:
                if config.database == "postgres":
                    report["configs"][config.name] = {"error": f"PostgreSQL or Redis not reachable: {exc}"}
            configs = [c for c in configs if c.database != "postgres"]

    workdir = Path(tempfile.mkdtemp(prefix="storefront-bench-"))
    started = time.monotonic()
    keep = False
    try:
        report["reference"] = bench_reference(workdir, opts)
        for config in configs:
            try:
                report["configs"][config.name] = bench_storefront(config, workdir, opts)
            except Exception as exc:
                keep = True
                log(f"{config.name} failed: {exc}")
                report["configs"][config.name] = {"error": str(exc).splitlines()[0]}
    finally:
        if keep:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load average at end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    report["targets"] = targets(report)
    report["elapsed_s"] = round(time.monotonic() - started)
    text = markdown(report)
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=2) + "\n")
    if opts.markdown:
        opts.markdown.write_text(text)
    if opts.docs:
        write_results(opts.docs, report, text)
    print(text)
    log(f"done in {report['elapsed_s']} s")
    missed = [t for t in report["targets"] if not t["met"]]
    print(f"{len(report['targets']) - len(missed)} of {len(report['targets'])} targets met.")


if __name__ == "__main__":
    main()
