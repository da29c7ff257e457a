"""The audit log: every change staff and admins make, in the change's own
transaction, with the fields before and after and never a secret; readable by
admins at `GET /api/v1/audit-log` with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import AuditEntry
from tests.factories import PASSWORD, Actor, Factory

LOG = "/api/v1/audit-log"


async def log(client: AsyncClient, admin: Actor, **filters: Any) -> list[dict[str, Any]]:
    response = await client.get(LOG, params=filters, headers=admin.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_staff_edit_is_logged_with_the_fields_before_and_after(client: AsyncClient, factory: Factory) -> None:
    staff, admin = await factory.staff(), await factory.admin()
    product = await factory.product(price="10.00", name="Mug")

    edited = await client.patch(
        f"/api/v1/products/{product.id}", json={"price": "12.50", "name": "Mug"}, headers=staff.headers
    )

    assert edited.status_code == 200
    entries = await log(client, admin, entity="product", entity_id=product.id)
    [entry] = [e for e in entries if e["entity"] == "product"]
    assert entry["action"] == "product.updated"
    assert entry["actor_id"] == staff.id
    assert entry["before"] == {"price": "10.00"}  # the name was sent unchanged: not a change
    assert entry["after"] == {"price": "12.50"}
    assert entry["request_id"] == edited.headers["X-Request-ID"]
    assert datetime.fromisoformat(entry["created_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    variant = await log(client, admin, entity="variant")
    assert variant[0]["before"] == {"price": "10.00"}
    assert variant[0]["after"] == {"price": "12.50"}


async def test_shipping_an_order_is_logged_as_its_status_change(client: AsyncClient, factory: Factory) -> None:
    buyer, admin = await factory.customer(), await factory.admin()
    product = await factory.product(stock=5)
    placed = await client.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers
    )
    order_id = placed.json()["id"]
    for status in ("paid", "shipped"):
        moved = await client.post(f"/api/v1/orders/{order_id}/status", json={"status": status}, headers=admin.headers)
        assert moved.status_code == 200, moved.text

    entries = await log(client, admin, entity="order", entity_id=order_id)
    assert [(e["action"], e["before"]["status"], e["after"]["status"]) for e in entries] == [
        ("order.updated", "paid", "shipped"),
        ("order.updated", "pending", "paid"),
    ]
    assert {e["actor_id"] for e in entries} == {admin.id}
    # The customer's own order was not a staff change.
    assert [e for e in await log(client, admin) if e["action"] == "order.created"] == []


async def test_no_secret_or_hash_is_ever_logged(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    created = await client.post(
        "/api/v1/users",
        json={"email": "new@example.com", "username": "newbie", "password": PASSWORD, "role": "staff"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    hook = await client.post(
        "/api/v1/webhooks", json={"url": "https://93.184.215.14/in", "events": ["*"]}, headers=admin.headers
    )
    assert hook.status_code == 201, hook.text
    await client.post(f"/api/v1/webhooks/{hook.json()['id']}/rotate-secret", headers=admin.headers)

    entries = await log(client, admin)
    [user] = [e for e in entries if e["action"] == "user.created"]
    assert user["after"]["username"] == "newbie"
    assert user["after"]["role"] == "staff"
    assert {e["action"] for e in entries if e["entity"] == "webhook"} == {"webhook.created", "webhook.updated"}
    fields = {key for e in entries for part in (e["before"], e["after"]) if part for key in part}
    assert not fields & {"password_hash", "secret", "previous_secret", "client_secret"}
    assert "previous_secret_expires_at" in fields  # the rotation itself is logged
    text = str(entries)
    for secret in ("argon2", hook.json()["secret"], hook.json()["secret"].removeprefix("whsec_")):
        assert secret not in text


async def test_a_refused_change_logs_nothing_and_customers_changes_are_not_logged(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff, customer, admin = await factory.staff(), await factory.customer(), await factory.admin()
    await factory.discount(code="TAKEN")
    other = await factory.discount(code="FREE")

    refused = await client.patch(f"/api/v1/discounts/{other.id}", json={"code": "taken"}, headers=staff.headers)
    mine = await client.patch("/api/v1/users/me", json={"full_name": "Ada"}, headers=customer.headers)

    assert refused.status_code == 409
    assert mine.status_code == 200
    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert await log(client, admin) == []


async def test_deletes_keep_what_was_deleted(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    discount = await factory.discount(code="GONE")
    deleted = await client.delete(f"/api/v1/discounts/{discount.id}", headers=admin.headers)
    assert deleted.status_code == 204

    [entry] = await log(client, admin, entity="discount")
    assert (entry["action"], entry["entity_id"], entry["after"]) == ("discount.deleted", discount.id, None)
    assert entry["before"]["code"] == "GONE"


async def test_the_log_filters_and_is_for_admins_only(client: AsyncClient, factory: Factory) -> None:
    staff, other_staff, admin, customer = (
        await factory.staff(),
        await factory.staff(),
        await factory.admin(),
        await factory.customer(),
    )
    one, two = await factory.product(), await factory.product()
    await client.patch(f"/api/v1/products/{one.id}", json={"name": "One"}, headers=staff.headers)
    await client.patch(f"/api/v1/products/{two.id}", json={"name": "Two"}, headers=other_staff.headers)

    by_staff = await log(client, admin, actor_id=staff.id)
    assert {e["entity_id"] for e in by_staff if e["entity"] == "product"} == {one.id}
    assert [e["after"] for e in await log(client, admin, entity="product", entity_id=two.id)] == [{"name": "Two"}]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await log(client, admin, since=future) == []
    everything = await client.get(LOG, params={"limit": 1}, headers=admin.headers)
    assert everything.headers["X-Total-Count"] == "2"
    assert len(everything.json()) == 1
    for bad in ({"entity": "spaceship"}, {"since": "yesterday"}, {"since": "2026-12-01T00:00:00"}, {"actor_id": 0}):
        assert (await client.get(LOG, params=bad, headers=admin.headers)).status_code == 422, bad
    assert (await client.get(LOG)).status_code == 401
    for actor in (staff, customer):
        assert (await client.get(LOG, headers=actor.headers)).status_code == 403


async def test_since_is_a_date_time_not_a_number(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    for number in ("0.5", "1700000000"):
        refused = await client.get(LOG, params={"since": number}, headers=admin.headers)
        assert refused.status_code == 422, number
