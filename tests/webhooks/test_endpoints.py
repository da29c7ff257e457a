"""Managing webhook endpoints over the API: admins only, the secret shown once
and stored sealed, rotation, test events, the delivery log and retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.config import Settings
from storefront.database import Database
from storefront.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from storefront.webhooks import secrets
from tests.factories import Actor, Factory
from tests.webhooks.conftest import WEBHOOKS, deliveries, subscribe

URL = "http://127.0.0.1:9/hooks"  # never called: no worker runs here


async def test_an_admin_subscribes_an_endpoint_and_sees_its_secret_once(
    api: AsyncClient, admin: Actor, database: Database, hook_settings: Settings
) -> None:
    created = await api.post(
        WEBHOOKS,
        json={"url": URL, "events": ["order.created", "refund.succeeded"], "description": "  Our ERP "},
        headers=admin.headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert created.headers["Location"] == f"{WEBHOOKS}/{body['id']}"
    assert created.headers["Cache-Control"] == "no-store"
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["events"], body["description"], body["active"]) == (
        URL,
        ["order.created", "refund.succeeded"],
        "Our ERP",
        True,
    )
    read = (await api.get(f"{WEBHOOKS}/{body['id']}", headers=admin.headers)).json()
    listed = (await api.get(WEBHOOKS, headers=admin.headers)).json()
    assert "secret" not in read
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    # A dump of the database does not show it; the key derived from SECRET_KEY opens it.
    async with database.read_session() as session:
        endpoint = await session.get(WebhookEndpoint, body["id"])
    assert endpoint is not None
    assert body["secret"] not in endpoint.secret
    assert body["secret"].removeprefix("whsec_") not in endpoint.secret
    assert secrets.box(hook_settings.signing_key()).open(endpoint.secret) == body["secret"]
    assert body["secret"] not in repr(endpoint)


async def test_every_event_is_subscribed_with_a_star(api: AsyncClient, admin: Actor) -> None:
    hook = await subscribe(api, admin, URL, ["order.created", "*"])
    assert hook["events"] == ["*"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL, "events": []},
        {"url": URL, "events": ["order.shipped"]},
        {"url": URL, "events": ["order.created", "order.created"]},
        {"url": URL},
        {"url": "ftp://example.com/x", "events": ["*"]},
        {"url": URL, "events": ["*"], "secret": "whsec_mine"},
        {"url": "https://" + "a" * 2048 + ".com", "events": ["*"]},
    ],
    ids=["no events", "unknown event", "twice", "events missing", "not http", "own secret", "too long"],
)
async def test_bad_endpoints_are_refused_and_nothing_is_stored(
    api: AsyncClient, admin: Actor, database: Database, body: dict[str, object]
) -> None:
    response = await api.post(WEBHOOKS, json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


async def test_only_admins_manage_webhooks(api: AsyncClient, admin: Actor, factory: Factory) -> None:
    hook = await subscribe(api, admin, URL)
    customer, staff = await factory.customer(), await factory.staff()
    calls = [
        ("GET", WEBHOOKS),
        ("POST", WEBHOOKS),
        ("GET", f"{WEBHOOKS}/{hook['id']}"),
        ("PATCH", f"{WEBHOOKS}/{hook['id']}"),
        ("DELETE", f"{WEBHOOKS}/{hook['id']}"),
        ("POST", f"{WEBHOOKS}/{hook['id']}/rotate-secret"),
        ("POST", f"{WEBHOOKS}/{hook['id']}/test"),
        ("GET", f"{WEBHOOKS}/{hook['id']}/deliveries"),
        ("GET", f"{WEBHOOKS}/999/deliveries/1"),
        ("POST", f"{WEBHOOKS}/{hook['id']}/deliveries/1/retry"),
    ]
    for method, path in calls:
        json = {"url": URL, "events": ["*"]} if method in ("POST", "PATCH") and path == WEBHOOKS else None
        assert (await api.request(method, path, json=json)).status_code == 401, path
        for actor in (customer, staff):
            response = await api.request(method, path, json=json, headers=actor.headers)
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), (path, actor.user.role)
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}", headers=admin.headers)).json()["active"] is True


async def test_an_endpoint_is_changed_disabled_and_deleted_with_its_deliveries(
    api: AsyncClient, admin: Actor, database: Database
) -> None:
    hook = await subscribe(api, admin, URL)
    path = f"{WEBHOOKS}/{hook['id']}"
    changed = await api.patch(path, json={"events": ["stock.low"], "description": None}, headers=admin.headers)
    assert changed.status_code == 200
    assert (changed.json()["events"], changed.json()["description"], changed.json()["url"]) == (
        ["stock.low"],
        None,
        URL,
    )
    assert (await api.patch(path, json={"active": None}, headers=admin.headers)).status_code == 422
    off = await api.patch(path, json={"active": False}, headers=admin.headers)
    assert off.json()["active"] is False
    test = await api.post(f"{path}/test", headers=admin.headers)
    assert (test.status_code, test.json()["code"]) == (409, "webhook_inactive")

    await api.patch(path, json={"active": True}, headers=admin.headers)
    assert (await api.post(f"{path}/test", headers=admin.headers)).status_code == 202
    deleted = await api.delete(path, headers=admin.headers)
    assert deleted.status_code == 204
    assert (await api.get(path, headers=admin.headers)).json()["code"] == "webhook_not_found"
    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


async def test_a_rotation_gives_a_new_secret_and_keeps_the_old_one_for_a_day(
    api: AsyncClient, admin: Actor, database: Database, hook_settings: Settings
) -> None:
    hook = await subscribe(api, admin, URL)
    rotated = await api.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=admin.headers)
    assert rotated.status_code == 200
    assert rotated.headers["Cache-Control"] == "no-store"
    until = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert abs(until - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    read = (await api.get(f"{WEBHOOKS}/{hook['id']}", headers=admin.headers)).json()
    assert datetime.fromisoformat(read["previous_secret_expires_at"]) == until
    async with database.read_session() as session:
        endpoint = await session.get(WebhookEndpoint, hook["id"])
    assert endpoint is not None
    box = secrets.box(hook_settings.signing_key())
    assert box.open(endpoint.secret) == rotated.json()["secret"]
    assert endpoint.previous_secret is not None
    assert box.open(endpoint.previous_secret) == hook["secret"]


async def test_the_delivery_log_filters_by_status_and_belongs_to_its_endpoint(
    api: AsyncClient, admin: Actor, database: Database
) -> None:
    one, other = await subscribe(api, admin, URL), await subscribe(api, admin, URL)
    first = (await api.post(f"{WEBHOOKS}/{one['id']}/test", headers=admin.headers)).json()
    second = (await api.post(f"{WEBHOOKS}/{one['id']}/test", headers=admin.headers)).json()
    async with database.transaction() as uow:
        delivery = await uow.get(WebhookDelivery, first["id"])
        assert delivery is not None
        delivery.status = DeliveryStatus.failed

    assert [d["id"] for d in await deliveries(api, admin, one["id"])] == [second["id"], first["id"]]
    failed = await api.get(f"{WEBHOOKS}/{one['id']}/deliveries?status=failed", headers=admin.headers)
    assert [d["id"] for d in failed.json()] == [first["id"]]
    assert failed.headers["X-Total-Count"] == "1"
    bad = await api.get(f"{WEBHOOKS}/{one['id']}/deliveries?status=lost", headers=admin.headers)
    assert bad.status_code == 422
    assert await deliveries(api, admin, other["id"]) == []
    # Another endpoint's delivery is no delivery of this one.
    foreign = f"{WEBHOOKS}/{other['id']}/deliveries/{first['id']}"
    assert (await api.get(foreign, headers=admin.headers)).json()["code"] == "delivery_not_found"
    assert (await api.post(f"{foreign}/retry", headers=admin.headers)).status_code == 404
    retried = await api.post(f"{WEBHOOKS}/{one['id']}/deliveries/{first['id']}/retry", headers=admin.headers)
    assert (retried.status_code, retried.json()["status"]) == (202, "pending")
    assert retried.json()["next_attempt_at"] is not None
