"""Deliveries to a real receiver over HTTP: signed as Standard Webhooks says,
retried with the same `webhook-id`, never held up by another endpoint, kept
through a worker's crash, and disabling an endpoint that keeps failing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from storefront.config import Settings
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Email, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storefront.webhooks.sender import RESPONSE_EXCERPT
from tests.factories import Actor, Factory
from tests.webhooks.conftest import WEBHOOKS, FakeDNS, deliveries, eventually, running_worker, subscribe
from tests.webhooks.receiver import HANG, Big, Receiver, Redirect

PRODUCTS = "/api/v1/products"


async def new_product(api: AsyncClient, admin: Actor, name: str = "Mug") -> dict[str, Any]:
    response = await api.post(PRODUCTS, json={"name": name, "price": "9.50", "stock": 3}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_an_event_is_delivered_signed_as_standard_webhooks_says(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    hook = await subscribe(api, admin, receiver.script("/erp"), ["product.created"])
    product = await new_product(api, admin)

    async with running_worker(hook_settings, dns):
        [request] = await receiver.wait_for("/erp")

    # The receiver's side, with the reference library only.
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "product.created"
    assert payload["data"]["id"] == product["id"]
    assert payload["data"]["name"] == "Mug"
    assert payload["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body.replace(b"Mug", b"Cup"), request.headers)
    [delivery] = await deliveries(api, admin, hook["id"])
    assert delivery["webhook_id"] == request.headers["webhook-id"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 1, 200)
    assert delivery["type"] == "product.created"
    assert delivery["event_id"] is not None
    assert delivery["next_attempt_at"] is None
    assert delivery["delivered_at"] is not None


async def test_two_errors_then_success_arrives_on_the_third_attempt_with_the_same_id(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    hook = await subscribe(api, admin, receiver.script("/flaky", 500, 500, 200))
    await new_product(api, admin)

    async with running_worker(hook_settings, dns):
        requests = await receiver.wait_for("/flaky", 3)
        await eventually(lambda: _status(api, admin, hook["id"], "delivered"))

    assert len({request.headers["webhook-id"] for request in requests}) == 1
    for request in requests:
        Webhook(hook["secret"]).verify(request.body, request.headers)
    [delivery] = await deliveries(api, admin, hook["id"])
    detail = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries/{delivery['id']}", headers=admin.headers)).json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 200]
    assert [a["error"] for a in detail["attempt_log"]] == ["HTTP 500", "HTTP 500", None]
    assert detail["attempts"] == 3
    assert detail["payload"]["type"] == "product.created"
    # The retries waited (the base is 0.05 s; the second delay is 4 times the first).
    assert requests[2].at - requests[1].at > requests[1].at - requests[0].at > 0.03


async def _status(api: AsyncClient, admin: Actor, webhook_id: int, status: str) -> bool:
    return any(d["status"] == status for d in await deliveries(api, admin, webhook_id))


async def test_a_hanging_endpoint_does_not_delay_another(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    settings = hook_settings.model_copy(update={"webhook_timeout_seconds": 30.0})
    await subscribe(api, admin, receiver.script("/stuck", HANG, HANG, HANG))
    await subscribe(api, admin, receiver.script("/fine"))
    for n in range(3):
        await new_product(api, admin, f"Mug {n}")  # three events for each endpoint

    async with running_worker(settings, dns):
        fine = await receiver.wait_for("/fine", 3)
        stuck = receiver.at("/stuck")

    assert 1 <= len(stuck) <= settings.webhook_concurrency_per_endpoint  # at most its own slots
    # Each of the fine endpoint's deliveries arrived within a second of the hanging ones starting.
    assert max(request.at for request in fine) - min(request.at for request in stuck) < 1.0


async def test_rotation_sends_two_valid_signatures_for_a_day(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS, database: Database
) -> None:
    hook = await subscribe(api, admin, receiver.script("/rotating"))
    rotated = await api.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=admin.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != hook["secret"]
    await new_product(api, admin)

    async with running_worker(hook_settings, dns):
        [request] = await receiver.wait_for("/rotating")

    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret in (hook["secret"], new_secret):  # each verifies alone
        Webhook(secret).verify(request.body, request.headers)
    for signature in signatures:
        alone = {**request.headers, "webhook-signature": signature}
        assert sum(_verifies(secret, request.body, alone) for secret in (hook["secret"], new_secret)) == 1

    # 24 hours later only the new secret signs.
    async with database.transaction() as uow:
        await uow.execute(update(WebhookEndpoint).values(previous_secret_expires_at=utcnow() - timedelta(seconds=1)))
    await new_product(api, admin, "Cup")
    async with running_worker(hook_settings, dns):
        _, later = await receiver.wait_for("/rotating", 2)
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(later.body, later.headers)
    assert not _verifies(hook["secret"], later.body, later.headers)


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_an_endpoint_failing_again_and_again_is_disabled_and_the_admins_emailed(
    api: AsyncClient,
    admin: Actor,
    factory: Factory,
    receiver: Receiver,
    hook_settings: Settings,
    dns: FakeDNS,
    database: Database,
) -> None:
    other_admin, staff = await factory.admin(), await factory.staff()
    settings = hook_settings.model_copy(update={"webhook_disable_after": 4, "webhook_max_attempts": 3})
    hook = await subscribe(api, admin, receiver.script("/down", *[503] * 10))
    await new_product(api, admin, "One")
    await new_product(api, admin, "Two")

    async with running_worker(settings, dns):
        read = await eventually(lambda: _disabled(api, admin, hook["id"]))
        await asyncio.sleep(0.3)  # nothing more is sent once it is disabled

    assert len(receiver.at("/down")) == 4  # 3 attempts of one delivery and 1 of the other, in some order
    assert read["consecutive_failures"] == 4
    assert read["disabled_reason"].startswith("4 failed attempts in a row; the last: HTTP 503")
    async with database.read_session() as session:
        emails = list(await session.scalars(select(Email).where(Email.kind == "webhook_disabled")))
    assert sorted(email.to for email in emails) == sorted([admin.user.email, other_admin.user.email])
    assert staff.user.email not in {email.to for email in emails}
    assert receiver.url in emails[0].body_text
    statuses = sorted(d["status"] for d in await deliveries(api, admin, hook["id"]))
    assert statuses in (["failed", "pending"], ["pending", "pending"])

    # Made active again: the failure count starts over and the waiting delivery goes out.
    again = await api.patch(f"{WEBHOOKS}/{hook['id']}", json={"active": True}, headers=admin.headers)
    assert again.status_code == 200
    assert (again.json()["active"], again.json()["consecutive_failures"], again.json()["disabled_reason"]) == (
        True,
        0,
        None,
    )


async def _disabled(api: AsyncClient, admin: Actor, webhook_id: int) -> dict[str, Any] | None:
    read = (await api.get(f"{WEBHOOKS}/{webhook_id}", headers=admin.headers)).json()
    return dict(read) if not read["active"] else None


async def test_a_redirect_is_not_followed(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    hook = await subscribe(api, admin, receiver.script("/moved", Redirect(f"{receiver.url}/elsewhere")))
    await new_product(api, admin)

    async with running_worker(hook_settings, dns):
        await receiver.wait_for("/moved", 2)  # retried, not followed

    assert receiver.at("/elsewhere") == []
    delivery = (await deliveries(api, admin, hook["id"]))[0]
    detail = (await api.get(f"{WEBHOOKS}/{hook['id']}/deliveries/{delivery['id']}", headers=admin.headers)).json()
    first = detail["attempt_log"][0]
    assert first["status_code"] == 302
    assert first["error"].startswith("HTTP 302: redirects are not followed")


async def test_a_slow_answer_times_out_and_a_long_one_is_read_to_a_cap(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    settings = hook_settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    slow = await subscribe(api, admin, receiver.script("/slow", HANG), ["product.created"])
    big = await subscribe(api, admin, receiver.script("/big", *[Big(500)] * 20), ["product.created"])
    await new_product(api, admin)

    async with running_worker(settings, dns):
        await eventually(lambda: _attempted(api, admin, slow["id"]))
        await eventually(lambda: _attempted(api, admin, big["id"]))

    [timed_out] = await deliveries(api, admin, slow["id"])
    detail = (await api.get(f"{WEBHOOKS}/{slow['id']}/deliveries/{timed_out['id']}", headers=admin.headers)).json()
    first = detail["attempt_log"][0]
    assert (first["error"], first["status_code"]) == ("no answer within 0.5 s", None)
    assert 400 <= first["duration_ms"] < 2000
    [long] = await deliveries(api, admin, big["id"])
    detail = (await api.get(f"{WEBHOOKS}/{big['id']}/deliveries/{long['id']}", headers=admin.headers)).json()
    excerpt = detail["attempt_log"][0]["response_excerpt"]
    assert excerpt == "x" * RESPONSE_EXCERPT


async def _attempted(api: AsyncClient, admin: Actor, webhook_id: int) -> bool:
    return any(d["last_error"] for d in await deliveries(api, admin, webhook_id))


async def test_a_rolled_back_change_delivers_nothing_and_a_committed_one_once_per_subscriber(
    api: AsyncClient, admin: Actor, receiver: Receiver, database: Database
) -> None:
    everything = await subscribe(api, admin, receiver.script("/all"))
    orders_only = await subscribe(api, admin, receiver.script("/orders"), ["order.created"])
    paused = await subscribe(api, admin, receiver.script("/paused"), ["product.created"])
    await api.patch(f"{WEBHOOKS}/{paused['id']}", json={"active": False}, headers=admin.headers)

    async def fail_after_the_event() -> None:
        async with database.transaction() as uow:
            await uow.record_event("product.created", {"id": 1})
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await fail_after_the_event()
    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0

    async with database.transaction() as uow:
        await uow.record_event("product.created", {"id": 1})
        await uow.record_event("product.updated", {"id": 1})

    assert [d["type"] for d in await deliveries(api, admin, everything["id"])] == [
        "product.updated",
        "product.created",
    ]
    assert await deliveries(api, admin, orders_only["id"]) == []
    assert await deliveries(api, admin, paused["id"]) == []


async def test_two_workers_send_each_delivery_once(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS, database: Database
) -> None:
    settings = hook_settings.model_copy(update={"webhook_concurrency_per_endpoint": 4})
    hooks = [await subscribe(api, admin, receiver.script(f"/shop{n}")) for n in range(3)]
    async with database.transaction() as uow:
        for n in range(20):
            await uow.record_event("product.updated", {"id": n})

    async with running_worker(settings, dns), running_worker(settings, dns):
        for n in range(3):
            await receiver.wait_for(f"/shop{n}", 20)
        await eventually(lambda: _all_delivered(database, 60))

    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(ids) == 60
    assert len(set(ids)) == 60  # no delivery sent twice
    async with database.read_session() as session:
        answered = list(
            await session.scalars(select(WebhookAttempt.delivery_id).where(WebhookAttempt.status_code == 200))
        )
    assert sorted(answered) == sorted(set(answered))  # one successful attempt each
    assert len(answered) == 60
    assert len(hooks) == 3


async def _all_delivered(database: Database, count: int) -> bool:
    async with database.read_session() as session:
        done = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "delivered")
        )
    return done == count


async def test_a_manual_retry_sends_a_delivered_delivery_again_with_its_id(
    api: AsyncClient, admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS
) -> None:
    hook = await subscribe(api, admin, receiver.script("/again"))
    sent = await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)
    assert sent.status_code == 202
    assert (sent.json()["type"], sent.json()["status"], sent.json()["event_id"]) == ("webhook.test", "pending", None)

    async with running_worker(hook_settings, dns):
        [first] = await receiver.wait_for("/again")
        retried = await api.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{sent.json()['id']}/retry", headers=admin.headers)
        assert retried.status_code == 202
        _, second = await receiver.wait_for("/again", 2)

    assert json.loads(first.body)["type"] == "webhook.test"
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == sent.json()["webhook_id"]
    [delivery] = await deliveries(api, admin, hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)


async def test_after_a_change_of_secret_key_deliveries_fail_until_the_secret_is_rotated(
    admin: Actor, receiver: Receiver, hook_settings: Settings, dns: FakeDNS, database: Database
) -> None:
    from tests.webhooks.conftest import api_client

    async with api_client(hook_settings, dns) as api:
        hook = await subscribe(api, admin, receiver.script("/rekeyed"))
    moved = hook_settings.model_copy(update={"secret_key": "another-secret-key-that-is-long-enough-too"})
    admin = await Factory(database, moved).admin()  # tokens are signed with the key too
    async with api_client(moved, dns) as api:
        first = (await api.post(f"{WEBHOOKS}/{hook['id']}/test", headers=admin.headers)).json()
        async with running_worker(moved, dns):
            await eventually(lambda: _attempted(api, admin, hook["id"]))
        [failed] = await deliveries(api, admin, hook["id"])
        assert failed["last_error"].startswith("the signing secret cannot be read (SECRET_KEY changed)")
        assert receiver.at("/rekeyed") == []  # nothing unsigned left the shop

        rotated = (await api.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=admin.headers)).json()
        assert rotated["previous_secret_expires_at"] is None  # the unreadable secret signs nothing
        await api.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{first['id']}/retry", headers=admin.headers)
        async with running_worker(moved, dns):
            [request] = await receiver.wait_for("/rekeyed")
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated["secret"]).verify(request.body, request.headers)
