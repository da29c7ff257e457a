"""A worker process killed (SIGKILL) in the middle of sending: another worker
process sends the delivery again once the lease runs out, with the same
`webhook-id`, and the killed attempt is never recorded as an outcome."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from httpx import AsyncClient
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from storefront.config import Settings
from storefront.database import Database
from storefront.models import WebhookAttempt, WebhookDelivery
from tests.factories import Actor
from tests.webhooks.conftest import WEBHOOKS, subscribe
from tests.webhooks.receiver import HANG, Receiver

STOREFRONT = str(Path(sys.executable).parent / "storefront")


def start_worker(settings: Settings, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {name: value for name, value in os.environ.items() if name.lower() not in Settings.model_fields} | {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.signing_key(),  # the key the endpoint's secret was sealed with
        "LOG_LEVEL": "WARNING",
        "MAIL_DIR": str(tmp_path / "mail"),
        "WORKER_POLL_SECONDS": "0.1",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_TIMEOUT_SECONDS": "2",  # so a lease lasts 7 s
    }
    return subprocess.Popen(  # noqa: S603 - our own console script
        [STOREFRONT, "worker"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def test_sigkill_mid_delivery_still_delivers_after_restart(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, database: Database, tmp_path: Path
) -> None:
    hook = await subscribe(api, admin, receiver.script("/crash", HANG))
    sent = await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)
    assert sent.status_code == 202

    first = start_worker(hook_settings, tmp_path)
    try:
        [interrupted] = await receiver.wait_for("/crash", within=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.communicate, None, 10)
    assert first.returncode == -signal.SIGKILL

    second = start_worker(hook_settings, tmp_path)
    try:
        _, resent = await receiver.wait_for("/crash", 2, within=30)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(second.communicate, None, 30)
    assert second.returncode == 0, stderr.decode()

    assert resent.headers["webhook-id"] == interrupted.headers["webhook-id"] == sent.json()["webhook_id"]
    Webhook(hook["secret"]).verify(resent.body, resent.headers)
    async with database.read_session() as session:
        delivery = await session.get(WebhookDelivery, sent.json()["id"])
        attempts = list(await session.scalars(select(WebhookAttempt)))
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.lease_owner) == ("delivered", 2, None)
    assert [(a.number, a.status_code) for a in attempts] == [(2, 200)]  # the killed one has no outcome
