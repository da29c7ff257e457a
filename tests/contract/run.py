"""The contract checks (`make contract`): the OpenAPI tools users run, against a live server.

Starts `storefront serve` as users run it (its own CLI: `db upgrade`,
`create-admin`, `seed`, `serve`) on a fresh SQLite database in a temporary
directory, with rate limits off, downloads `/openapi.json`, and then:

1. Spectral (`spectral:oas` + the OWASP API ruleset, tests/contract/.spectral.yaml): no errors.
2. openapi-typescript: the generated types compile under `tsc --strict` with a
   typed use of them (types_check.ts).
3. openapi-python-client: a client generated without warnings, then a short
   flow with it against the server (client_flow.py).
4. Schemathesis (tests/contract/schemathesis.toml): every phase, stateful
   included, and every check, logged in as an admin; no failure.

Everything talks to 127.0.0.1 only. The last line says PASS or FAIL with the
numbers; the exit status is non-zero on any failure. The temporary directory
(logs, reports, generated clients) is removed on success and kept on failure.

    .venv/bin/python tests/contract/run.py            # needs `make contract-tools` first
    .venv/bin/python tests/contract/run.py --only spectral,typescript
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
NODE_BIN = HERE / "node_modules" / ".bin"
CODEGEN_BIN = HERE / ".venv-codegen" / "bin"
HOST = "127.0.0.1"
ADMIN = {"email": "contract-admin@example.com", "username": "contract_admin"}
STEPS = ("spectral", "typescript", "python-client", "schemathesis")
SERVER_START_S = 60
STEP_TIMEOUT_S = 420  # a hung tool fails the run instead of stalling CI


@dataclass
class Result:
    step: str
    ok: bool
    summary: str
    seconds: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps among {', '.join(STEPS)}")
    args = parser.parse_args()
    steps = [step for step in args.only.split(",") if step]
    if unknown := set(steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    if missing := _missing_tools(steps):
        print(f"contract: FAIL — {missing} missing: run `make contract-tools` first", flush=True)
        return 2

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="storefront-contract-"))
    results: list[Result] = []
    try:
        with _server(work) as server:
            document = work / "openapi.json"
            document.write_bytes(httpx.get(f"{server.url}/openapi.json", timeout=10).raise_for_status().content)
            for step in steps:
                results.append(_run_step(step, work, document, server))
    except Exception as exc:  # the server did not come up: nothing else can run
        results.append(Result("server", False, f"{type(exc).__name__}: {exc}", 0.0))
    elapsed = time.monotonic() - started

    print("\n== contract checks ==")
    for result in results:
        print(f"  {'ok  ' if result.ok else 'FAIL'} {result.step:<14} {result.seconds:6.1f}s  {result.summary}")
    ok = bool(results) and all(result.ok for result in results)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"  logs, reports and generated clients kept in {work}")
    summary = "; ".join(f"{result.step}: {result.summary}" for result in results)
    print(f"contract: {'PASS' if ok else 'FAIL'} in {elapsed:.0f}s — {summary}", flush=True)
    return 0 if ok else 1


def _missing_tools(steps: list[str]) -> str | None:
    needed = {
        "spectral": NODE_BIN / "spectral",
        "typescript": NODE_BIN / "openapi-typescript",
        "python-client": CODEGEN_BIN / "openapi-python-client",
        "schemathesis": BIN / "schemathesis",
    }
    missing = [str(needed[step].relative_to(ROOT)) for step in steps if not needed[step].exists()]
    return ", ".join(missing) or None


# --- the server ---------------------------------------------------------------------


@dataclass
class Server:
    url: str
    env: dict[str, str]
    admin_id: int
    admin_password: str


@contextlib.contextmanager
def _server(work: Path) -> Iterator[Server]:
    """`storefront serve` on a fresh SQLite database, seeded, until the block ends."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite+aiosqlite:///{work}/contract.db",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "STORAGE_URL": f"file://{work}/uploads",
        "MAIL_DIR": str(work / "mail"),
        # The run sends thousands of logins, registrations and resets in minutes:
        # with the limits on, most of it would test the 429 path only.
        "RATE_LIMITS_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
    }
    password = secrets.token_urlsafe(18)
    cli = [str(BIN / "storefront")]
    # The working directory is the temporary one: no `.env` or `var/` of the checkout is read.
    _check([*cli, "db", "upgrade"], env, work)
    created = _check(
        [*cli, "create-admin", "--email", ADMIN["email"], "--username", ADMIN["username"], "--password", password],
        env,
        work,
    )
    admin_id = int(created.rsplit("(id ", 1)[1].rstrip(").\n"))
    _check([*cli, "seed", "--products", "12", "--users", "3", "--images"], env, work)

    port = _free_port()
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 — our own CLI, fixed arguments
        [*cli, "serve", "--host", HOST, "--port", str(port)],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://{HOST}:{port}"
    try:
        _wait_ready(url, process)
        yield Server(url=url, env=env, admin_id=admin_id, admin_password=password)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _check(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"storefront serve exited with {process.returncode}; see server.log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"storefront serve not ready after {SERVER_START_S}s")


# --- the steps -----------------------------------------------------------------------


def _run_step(step: str, work: Path, document: Path, server: Server) -> Result:
    print(f"\n== {step} ==", flush=True)
    started = time.monotonic()
    try:
        ok, summary = STEP_FUNCTIONS[step](work, document, server)
    except subprocess.TimeoutExpired:
        ok, summary = False, f"timed out after {STEP_TIMEOUT_S}s"
    return Result(step, ok, summary, time.monotonic() - started)


def _tool(command: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> int:
    """Run a tool with its output going to ours; its exit status."""
    print("$", " ".join(str(part) for part in command), flush=True)
    environment = {**os.environ, "NO_COLOR": "1", "SCARF_ANALYTICS": "false", **(env or {})}
    return subprocess.run(command, cwd=cwd, env=environment, timeout=STEP_TIMEOUT_S, check=False).returncode  # noqa: S603


def spectral(work: Path, document: Path, _: Server) -> tuple[bool, str]:
    report = work / "spectral.json"
    command = [str(NODE_BIN / "spectral"), "lint", str(document), "--ruleset", str(HERE / ".spectral.yaml")]
    status = _tool([*command, "--fail-severity", "error", "--format", "json", "--output", str(report), "--quiet"])
    findings = json.loads(report.read_text()) if report.exists() and report.stat().st_size else []
    # Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
    by_rule = Counter((finding["severity"], finding["code"]) for finding in findings)
    for (severity, code), count in sorted(by_rule.items()):
        print(f"  {SEVERITIES.get(severity, severity):<8} {count:4}  {code}")
    for finding in findings:
        if finding["severity"] == 0:
            print(f"  error at {'/'.join(map(str, finding['path']))}: {finding['message']}")
    errors = sum(count for (severity, _), count in by_rule.items() if severity == 0)
    warnings = sum(count for (severity, _), count in by_rule.items() if severity == 1)
    return status == 0 and errors == 0, f"{errors} errors, {warnings} warnings"


SEVERITIES = {0: "error", 1: "warning", 2: "info", 3: "hint"}


def typescript(work: Path, document: Path, _: Server) -> tuple[bool, str]:
    out = work / "typescript"
    out.mkdir()
    if _tool([str(NODE_BIN / "openapi-typescript"), str(document), "--output", str(out / "api.d.ts")]) != 0:
        return False, "openapi-typescript failed"
    shutil.copy(HERE / "types_check.ts", out)
    shutil.copy(HERE / "tsconfig.json", out)
    if _tool([str(NODE_BIN / "tsc"), "--project", str(out / "tsconfig.json")]) != 0:
        return False, "tsc --strict failed"
    lines = len((out / "api.d.ts").read_text().splitlines())
    return True, f"api.d.ts ({lines} lines) compiles under tsc --strict"


def python_client(work: Path, document: Path, server: Server) -> tuple[bool, str]:
    clients = work / "python"
    clients.mkdir()
    generated = _tool(
        [
            str(CODEGEN_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(clients / "storefront_client"),
            "--config",
            str(HERE / "openapi-python-client.yaml"),
            "--fail-on-warning",
        ],
        env={"PATH": f"{CODEGEN_BIN}{os.pathsep}{os.environ['PATH']}"},  # its post-hook runs its own ruff
    )
    if generated != 0:
        return False, "openapi-python-client generation failed (or warned)"
    flow = _tool(
        [str(CODEGEN_BIN / "python"), str(HERE / "client_flow.py"), server.url],
        env={"PYTHONPATH": str(clients)},
    )
    operations = sum(1 for path in (clients / "storefront_client" / "api").rglob("*.py") if path.stem != "__init__")
    return flow == 0, f"{operations} operations generated; flow {'passed' if flow == 0 else 'FAILED'}"


def schemathesis(work: Path, document: Path, server: Server) -> tuple[bool, str]:
    reports = work / "schemathesis"
    status = _tool(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{server.url}/openapi.json",
            "--report",
            "json",
            "--report-dir",
            str(reports),
            "--no-color",
        ],
        cwd=work,  # its crash cache (`st replay <id>`) goes beside the reports
        env={
            "CONTRACT_ADMIN_USERNAME": ADMIN["username"],
            "CONTRACT_ADMIN_PASSWORD": server.admin_password,
            "CONTRACT_ADMIN_ID": str(server.admin_id),
            # The hooks module, tests.contract.hooks.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
    )
    return status == 0, _schemathesis_numbers(reports)


def _schemathesis_numbers(reports: Path) -> str:
    report = next(reports.glob("*.json"), None) if reports.exists() else None
    if report is None:
        return "no report"
    data = json.loads(report.read_text())
    failures = sum(failure["count"] for failure in data["failures"])
    errors = sum(error["count"] for error in data["errors"])
    return (
        f"{data['test_cases']['generated']} cases over {data['operations']['tested']} operations, "
        f"{failures} failures, {errors} errors"
    )


STEP_FUNCTIONS = {
    "spectral": spectral,
    "typescript": typescript,
    "python-client": python_client,
    "schemathesis": schemathesis,
}


if __name__ == "__main__":
    sys.exit(main())
