"""Does exporting N orders keep the server's memory flat?

Seeds a fresh SQLite database (or uses DATABASE_URL), starts `storefront serve`
as users run it, downloads the orders export in both formats, and reports the
server's resident memory before, its peak during, and the bytes streamed.

    .venv/bin/python bench/export_memory.py --orders 100000
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sample(pid: int, peak: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        peak.append(rss_kib(pid))
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="storefront-bench-"))
    env = os.environ | {"LOG_LEVEL": "WARNING", "RATE_LIMITS_ENABLED": "false"}
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{workdir}/bench.db")

    def run(*cmd: str) -> None:
        subprocess.run([BIN / "storefront", *cmd], env=env, cwd=workdir, check=True)

    run("db", "upgrade")
    run("create-admin", "--email", "bench@example.com", "--username", "bench", "--password", "bench-password-long")
    started = time.perf_counter()
    run("seed", "--products", "500", "--users", "2000", "--orders", str(args.orders))
    print(f"seeded {args.orders} orders in {time.perf_counter() - started:.1f} s")

    port = free_port()
    server = subprocess.Popen(
        [BIN / "storefront", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "bench", "password": "bench-password-long"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        baseline = rss_kib(server.pid)
        print(f"server RSS before export: {baseline / 1024:.1f} MiB")
        for fmt in ("csv", "jsonl"):
            peak, stop = [rss_kib(server.pid)], threading.Event()
            sampler = threading.Thread(target=sample, args=(server.pid, peak, stop))
            sampler.start()
            started = time.perf_counter()
            size = rows = 0
            with httpx.stream(
                "GET", f"{base}/api/v1/orders/export", params={"format": fmt}, headers=headers, timeout=600
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    rows += chunk.count(b"\n")
            stop.set()
            sampler.join()
            elapsed = time.perf_counter() - started
            print(
                f"{fmt:5}: {rows} lines, {size / 1e6:.1f} MB in {elapsed:.1f} s; "
                f"server RSS peak {max(peak) / 1024:.1f} MiB (+{(max(peak) - baseline) / 1024:.1f} MiB over before)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
