"""The desk: the dashboard's numbers, and each order and customer action going
through the same services as the API (the same refusals, events, emails and
audit entries), behind the session's CSRF token."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.database import Database
from storefront.db import utcnow
from storefront.models import (
    AuditEntry,
    Email,
    Event,
    Order,
    Product,
    ProductVariant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.admin.test_admin import admin_login
from tests.factories import Actor, Factory

ORDERS = "/api/v1/orders"


async def place(client: AsyncClient, buyer: Actor, product: Product, quantity: int = 1) -> dict[str, Any]:
    placed = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": quantity}]}, headers=buyer.headers
    )
    assert placed.status_code == 201, placed.text
    return dict(placed.json())


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has a form with the CSRF token"
    return found.group(1)


def metric(html: str, name: str) -> str:
    found = re.search(rf'data-metric="{name}">([^<]*)<', html)
    assert found is not None, name
    return found.group(1).strip()


async def test_the_dashboard_shows_the_shop_as_the_database_has_it(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    mug, tee = await factory.product(price=Decimal("12.50"), stock=40), await factory.product(stock=6)
    first, second = await place(client, buyer, mug, 2), await place(client, buyer, mug)
    cancelled = await place(client, buyer, tee)
    await client.post(f"{ORDERS}/{cancelled['id']}/cancel", headers=buyer.headers)
    await client.post(f"{ORDERS}/{second['id']}/status", json={"status": "paid"}, headers=admin.headers)
    await place(client, buyer, tee, 2)  # tee: 6 - 2 = 4 left, low
    async with database.transaction() as uow:
        three_days_ago = utcnow().replace(hour=0) - timedelta(days=3)
        await uow.execute(update(Order).where(Order.id == first["id"]).values(created_at=three_days_ago))
        uow.add(Email(kind="message", to="x@example.com", subject="s", body_text="b", status="failed", attempts=8))
        endpoint = WebhookEndpoint(url="https://down.example.com/", events=["*"], active=False, secret="x",
                                   consecutive_failures=20, disabled_reason="20 failed attempts in a row")  # fmt: skip
        uow.add(endpoint)
        await uow.flush()
        uow.add(WebhookDelivery(endpoint_id=endpoint.id, message_id="msg_d1", type="order.created", payload="{}",
                                status="failed", attempts=8))  # fmt: skip
    await admin_login(client, admin)

    page = await client.get("/admin/")

    assert page.status_code == 200
    html = page.text
    async with database.read_session() as session:
        today = [o for o in await session.scalars(select(Order)) if o.created_at.date() == utcnow().date()]
    sales = [o for o in today if o.status != "cancelled"]
    assert metric(html, "orders-today") == str(len(sales)) == "2"
    assert metric(html, "revenue-today") == f"{sum(o.total for o in sales):.2f}"
    assert metric(html, "orders-week") == "3"  # the one placed 3 days ago counts in the week
    assert metric(html, "to-ship") == "1"
    assert metric(html, "failed-emails") == "1"
    assert metric(html, "failed-deliveries") == "1"
    async with database.read_session() as session:
        low = await session.scalar(select(ProductVariant.id).where(ProductVariant.product_id == tee.id))
        plenty = await session.scalar(select(ProductVariant.id).where(ProductVariant.product_id == mug.id))
    assert f'data-stock="{low}">4<' in html
    assert f'data-stock="{plenty}"' not in html  # 37 left: not low
    assert "down.example.com" in html
    assert html.count("<rect") == 7


async def test_an_admin_ships_an_order_through_the_service(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    order = await place(client, buyer, await factory.product(stock=3))
    await admin_login(client, admin)
    page = await client.get(f"/admin/desk/orders/{order['id']}")
    assert page.status_code == 200
    assert 'data-action="paid"' in page.text
    assert 'data-action="shipped"' not in page.text  # a pending order cannot ship
    csrf = token(page.text)

    # The order rules refuse what the API refuses: a pending order cannot be shipped.
    refused = await client.post(f"/admin/desk/orders/{order['id']}/status", data={"csrf": csrf, "status": "shipped"})
    assert refused.status_code == 409
    assert "cannot go from pending to shipped" in refused.text
    for status in ("paid", "shipped"):
        moved = await client.post(f"/admin/desk/orders/{order['id']}/status", data={"csrf": csrf, "status": status})
        assert moved.status_code == 303, moved.text

    async with database.read_session() as session:
        stored = await session.get(Order, order["id"])
        events = [
            e.data["status"] for e in await session.scalars(select(Event).where(Event.type == "order.status_changed"))
        ]
        emails = [e.subject for e in await session.scalars(select(Email).where(Email.to == buyer.user.email))]
        audit = [
            (a.actor_id, a.before, a.after)
            for a in await session.scalars(select(AuditEntry).where(AuditEntry.entity == "order"))
        ]
    assert stored is not None
    assert stored.status == "shipped"
    assert events == ["paid", "shipped"]
    assert f"Your order #{order['id']} is now shipped" in emails
    assert (admin.id, {"status": "paid"}, {"status": "shipped"}) in audit
    shown = await client.get(f"/admin/desk/orders/{order['id']}")
    assert "order.status_changed" in shown.text
    assert 'data-action="delivered"' in shown.text


async def test_a_refund_from_the_desk_is_the_apis_refund(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    order = await place(client, buyer, await factory.product(price=Decimal("20.00"), stock=5), 2)
    await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "paid"}, headers=admin.headers)
    await admin_login(client, admin)
    csrf = token((await client.get(f"/admin/desk/orders/{order['id']}")).text)
    path = f"/admin/desk/orders/{order['id']}/refund"

    too_much = await client.post(path, data={"csrf": csrf, "amount": "999.00", "reason": "Too much"})
    assert too_much.status_code == 409
    assert "refund" in too_much.text.lower()
    blank = await client.post(path, data={"csrf": csrf, "amount": "5.00", "reason": ""})
    assert blank.status_code == 409  # the API's own validation (reason 1..500) refuses it
    done = await client.post(path, data={"csrf": csrf, "amount": "15.00", "reason": "Damaged", "restock": "on"})
    assert done.status_code == 303

    listed = await client.get(f"{ORDERS}/{order['id']}/refunds", headers=admin.headers)
    assert [(r["amount"], r["reason"], r["restocked"]) for r in listed.json()] == [("15.00", "Damaged", True)]
    async with database.read_session() as session:
        types = [e.type for e in await session.scalars(select(Event).order_by(Event.id))]
        audit = {a.action for a in await session.scalars(select(AuditEntry).where(AuditEntry.actor_id == admin.id))}
    assert "refund.succeeded" in types
    assert "refund.created" in audit
    page = await client.get(f"/admin/desk/orders/{order['id']}")
    assert 'id="refunded-total">15.00<' in page.text


async def test_desk_forms_need_the_sessions_token_and_this_origin(client: AsyncClient, factory: Factory) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    order = await place(client, buyer, await factory.product(stock=3))
    await admin_login(client, admin)
    csrf = token((await client.get(f"/admin/desk/orders/{order['id']}")).text)
    path = f"/admin/desk/orders/{order['id']}/status"

    assert (await client.post(path, data={"status": "paid"})).status_code == 403
    assert (await client.post(path, data={"csrf": "forged", "status": "paid"})).status_code == 403
    other_site = await client.post(
        path, data={"csrf": csrf, "status": "paid"}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    # sqladmin's own forms are covered by the origin check too.
    product = await factory.product(name="Kept")
    edit = await client.post(
        f"/admin/product/edit/{product.id}", data={"name": "Stolen"}, headers={"Referer": "https://evil.example/x"}
    )
    assert edit.status_code == 403
    assert (await factory.reload(Product, product.id)).name == "Kept"
    assert (await factory.reload(Order, order["id"])).status == "pending"
    same_site = await client.post(path, data={"csrf": csrf, "status": "paid"}, headers={"Origin": "http://test"})
    assert same_site.status_code == 303


async def test_customers_are_searched_and_deactivated_through_the_service(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    ada = await factory.customer(full_name="Ada Lovelace", email="ada@example.com")
    await factory.customer(full_name="Grace Hopper")
    await place(client, ada, await factory.product(price=Decimal("7.50"), stock=3), 2)
    await admin_login(client, admin)

    found = await client.get("/admin/desk/customers", params={"q": "LOVE"})
    assert found.status_code == 200
    assert "Ada Lovelace" in found.text
    assert "Grace Hopper" not in found.text
    assert "15.00" in found.text
    page = await client.get(f"/admin/desk/customers/{ada.id}")
    assert 'id="customer-spent">15.00<' in page.text
    csrf = token(page.text)

    off = await client.post(f"/admin/desk/customers/{ada.id}/active", data={"csrf": csrf, "active": "false"})
    assert off.status_code == 303
    assert (
        await client.get("/api/v1/users/me", headers=ada.headers)
    ).status_code == 401  # sessions ended, as the API does
    assert (await factory.reload(User, ada.id)).is_active is False
    async with database.read_session() as session:
        [entry] = list(await session.scalars(select(AuditEntry).where(AuditEntry.entity == "user")))
    assert (entry.actor_id, entry.before, entry.after) == (admin.id, {"is_active": True}, {"is_active": False})
    on = await client.post(f"/admin/desk/customers/{ada.id}/active", data={"csrf": csrf, "active": "true"})
    assert on.status_code == 303
    assert (await factory.reload(User, ada.id)).is_active is True


async def test_a_variants_stock_is_adjusted_and_a_product_archived_through_the_service(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    shirt = await factory.product_with_variants(
        {"Size": ["S", "M"]},
        [{"options": {"Size": "S"}, "stock": 4, "price": Decimal("20.00")},
         {"options": {"Size": "M"}, "stock": 2, "price": Decimal("20.00")}],
    )  # fmt: skip
    async with database.read_session() as session:
        variant = (await session.scalars(select(ProductVariant).where(ProductVariant.product_id == shirt.id))).first()
    assert variant is not None
    await admin_login(client, admin)
    page = await client.get(f"/admin/desk/products/{shirt.id}")
    assert page.status_code == 200
    assert f'data-variant="{variant.id}"' in page.text
    csrf = token(page.text)
    path = f"/admin/desk/products/{shirt.id}/stock"

    # What the API refuses, the desk refuses: stock below zero, a delta that is no whole number.
    below = await client.post(
        path, data={"csrf": csrf, "variant_id": str(variant.id), "delta": str(-variant.stock - 1)}
    )
    assert below.status_code == 409
    assert "stock" in below.text.lower()
    assert (
        await client.post(path, data={"csrf": csrf, "variant_id": str(variant.id), "delta": "1.5"})
    ).status_code == 409
    added = await client.post(path, data={"csrf": csrf, "variant_id": str(variant.id), "delta": "3"})
    assert added.status_code == 303
    archived = await client.post(f"/admin/desk/products/{shirt.id}/archive", data={"csrf": csrf})
    assert archived.status_code == 303

    async with database.read_session() as session:
        stock = await session.scalar(select(ProductVariant.stock).where(ProductVariant.id == variant.id))
        types = [e.type for e in await session.scalars(select(Event).order_by(Event.id))]
        audit = {(a.action, a.entity_id) for a in await session.scalars(select(AuditEntry))}
    assert stock == variant.stock + 3
    assert types == ["product.updated", "product.archived"]
    assert ("variant.updated", variant.id) in audit
    assert ("product.updated", shirt.id) in audit  # archived: `archived` false -> true
    assert 'id="product-state">archived<' in (await client.get(f"/admin/desk/products/{shirt.id}")).text


async def test_every_desk_page_and_rule_list_opens(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    await factory.discount(code="WELCOME")
    await factory.shipping_method(code="STANDARD")
    await factory.tax_rate("DE")
    await admin_login(client, admin)
    for path, shows in [
        ("/admin/desk/orders?status=paid&since=2026-01-01&until=2030-01-01", "Orders"),
        ("/admin/desk/products?q=product", "Products"),
        ("/admin/discount/list", "WELCOME"),
        ("/admin/shipping-method/list", "STANDARD"),
        ("/admin/tax-rate/list", "DE"),
    ]:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert shows in page.text, path
    assert (await client.get("/admin/desk/orders/999999")).status_code == 404
    assert (await client.get("/admin/desk/customers/999999")).status_code == 404
    assert (await client.get("/admin/desk/products/999999")).status_code == 404
