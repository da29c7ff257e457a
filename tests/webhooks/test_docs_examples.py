"""The verification examples of docs/webhooks.md, run as written against a real delivery."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from storefront.config import Settings
from tests.factories import Actor
from tests.webhooks.conftest import WEBHOOKS, FakeDNS, running_worker, subscribe
from tests.webhooks.receiver import Received, Receiver

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"


def _block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.DOTALL)
    [block] = [block for block in blocks if containing in block]
    return str(block)


async def _one_delivery(api: AsyncClient, admin: Actor, receiver: Receiver, settings: Settings, dns: FakeDNS) -> Any:
    hook = await subscribe(api, admin, receiver.script("/docs"))
    await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)
    async with running_worker(settings, dns):
        [request] = await receiver.wait_for("/docs")
    return hook["secret"], request


def _tampered(request: Received) -> Received:
    return Received(request.path, request.headers, request.body.replace(b"test", b"TEST"), request.at)


async def test_the_python_example_accepts_a_delivery_and_refuses_a_forged_one(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    secret, request = await _one_delivery(api, admin, receiver, hook_settings, dns)
    namespace: dict[str, Any] = {"SECRET": secret}
    exec(_block("python", "def receive"), namespace)  # noqa: S102 - the documentation's own example

    event = namespace["receive"](request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert namespace["receive"](_tampered(request).body, request.headers) is None


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
async def test_the_javascript_example_accepts_a_delivery_and_refuses_a_forged_one(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS, tmp_path: Path
) -> None:
    secret, request = await _one_delivery(api, admin, receiver, hook_settings, dns)
    (tmp_path / "verify.mjs").write_text(_block("js", "export function verify"))
    cases = [request.body.decode(), _tampered(request).body.decode()]
    (tmp_path / "case.json").write_text(json.dumps({"secret": secret, "headers": request.headers, "bodies": cases}))
    (tmp_path / "run.mjs").write_text(
        'import { readFileSync } from "node:fs";\n'
        'import { verify } from "./verify.mjs";\n'
        'const c = JSON.parse(readFileSync(process.argv[2], "utf8"));\n'
        "console.log(JSON.stringify(c.bodies.map((body) => verify(c.secret, c.headers, body))));\n"
    )
    node = shutil.which("node")
    assert node is not None
    done = await asyncio.to_thread(
        subprocess.run,
        [node, str(tmp_path / "run.mjs"), str(tmp_path / "case.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    accepted, forged = json.loads(done.stdout)
    assert accepted["type"] == "webhook.test"
    assert forged is None
