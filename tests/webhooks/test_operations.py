"""What operators see of webhooks: Prometheus metrics, `storefront worker
--status`, and delivery logs pruned after `RETENTION_DAYS`."""

from __future__ import annotations

import re
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import func, select, update

from storefront.config import Settings
from storefront.context import JobSignal
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import WebhookAttempt, WebhookDelivery
from storefront.runner import show_status
from storefront.worker import Worker
from tests.factories import Actor
from tests.webhooks.conftest import WEBHOOKS, FakeDNS, eventually, running_worker, subscribe
from tests.webhooks.receiver import Receiver


def _sample(text: str, name: str, label: str) -> float:
    match = re.search(rf"^{name}\{{{label}\}} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_metrics_and_status_show_the_backlog_and_the_attempts(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    hook = await subscribe(api, admin, receiver.script("/ops", 500))
    before = (await api.get("/metrics")).text
    for _ in range(2):
        assert (await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)).status_code == 202

    waiting = (await api.get("/metrics")).text
    assert _sample(waiting, "storefront_webhook_deliveries", 'status="pending"') == 2
    assert _sample(waiting, "storefront_webhook_deliveries", 'status="due"') == 2
    assert await show_status(hook_settings) == {
        "emails": {"queued": 0, "sending": 0, "sent": 0, "failed": 0},
        "webhooks": {"pending": 2, "delivered": 0, "failed": 0, "due": 2},
    }

    async with running_worker(hook_settings, dns):
        await eventually(lambda: _delivered(hook_settings, 2))

    after = (await api.get("/metrics")).text
    assert _sample(after, "storefront_webhook_deliveries", 'status="delivered"') == 2
    assert _sample(after, "storefront_webhook_deliveries", 'status="pending"') == 0
    attempts = "storefront_webhook_attempts_total"
    assert _sample(after, attempts, 'result="delivered"') - _sample(before, attempts, 'result="delivered"') == 2
    assert _sample(after, attempts, 'result="retrying"') - _sample(before, attempts, 'result="retrying"') == 1
    assert "storefront_webhook_attempt_duration_seconds_bucket" in after


async def _delivered(settings: Settings, count: int) -> bool:
    return (await show_status(settings))["webhooks"]["delivered"] == count


async def test_settled_delivery_logs_are_pruned_after_the_retention_days(
    api: AsyncClient, admin: Actor, database: Database, settings: Settings
) -> None:
    hook = await subscribe(api, admin, "http://127.0.0.1:9/never")
    ids = [(await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)).json()["id"] for _ in range(4)]
    old = utcnow() - timedelta(days=settings.retention_days + 1)
    async with database.transaction() as uow:
        for delivery_id, status, created in zip(
            ids, ["delivered", "failed", "pending", "delivered"], [old, old, old, utcnow()], strict=True
        ):
            await uow.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(status=status, created_at=created)
            )
            uow.add(
                WebhookAttempt(delivery_id=delivery_id, number=1, status_code=200, duration_ms=5, created_at=created)
            )

    pruned = await Worker(database, settings, JobSignal()).maintain()

    assert pruned["webhook_deliveries"] == 2
    async with database.read_session() as session:
        left = set(await session.scalars(select(WebhookDelivery.id)))
        attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert left == {ids[2], ids[3]}  # the pending one waits, however old; the recent one stays
    assert attempts == 2  # the pruned ones' attempts went with them
