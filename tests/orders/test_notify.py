"""Orders tell the world in the same transaction: emails and events, or nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select

from storefront.config import Settings
from storefront.context import JobSignal
from storefront.database import Database
from storefront.models import Email, Event, Product
from storefront.worker import Worker
from tests.factories import Factory

ORDERS = "/api/v1/orders"


async def outbox(database: Database) -> tuple[list[Email], list[Event]]:
    async with database.read_session() as session:
        emails = list(await session.scalars(select(Email).order_by(Email.id)))
        events = list(await session.scalars(select(Event).order_by(Event.id)))
    return emails, events


async def test_placing_an_order_queues_a_confirmation_and_an_event(
    client: AsyncClient, factory: Factory, database: Database, settings: Settings
) -> None:
    buyer = await factory.customer(full_name="Ada Lovelace")
    product = await factory.product(name="Teapot", stock=10)

    placed = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=buyer.headers
    )
    order_id = placed.json()["id"]

    emails, events = await outbox(database)
    assert [(e.kind, e.to) for e in emails] == [("order_confirmation", buyer.user.email)]
    assert f"#{order_id}" in emails[0].subject
    assert "2 \u00d7 Teapot" in emails[0].body_text
    assert [(e.type, e.user_id, e.data["order_id"]) for e in events] == [("order.created", buyer.id, order_id)]

    await Worker(database, settings, JobSignal()).run_once()
    [eml] = settings.mail_dir.glob("*.eml")
    assert f"Your order #{order_id} is confirmed" in eml.read_text()


async def test_a_refused_order_sends_nothing_and_emits_nothing(
    client: AsyncClient, factory: Factory, database: Database, settings: Settings
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=1)

    refused = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": 5}]}, headers=buyer.headers
    )

    assert refused.status_code == 409
    assert await outbox(database) == ([], [])
    assert await Worker(database, settings, JobSignal()).run_once() == 0
    assert list(settings.mail_dir.glob("*.eml")) == []


async def test_status_changes_email_the_customer(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=10)
    order_id = (
        await client.post(ORDERS, json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers)
    ).json()["id"]

    await client.post(f"{ORDERS}/{order_id}/status", json={"status": "paid"}, headers=staff.headers)
    await client.post(f"{ORDERS}/{order_id}/cancel", headers=staff.headers)

    emails, events = await outbox(database)
    assert [e.kind for e in emails] == ["order_confirmation", "order_status", "order_status"]
    assert [e.subject for e in emails[1:]] == [
        f"Your order #{order_id} is now paid",
        f"Your order #{order_id} is now cancelled",
    ]
    changes = [(e.data["previous_status"], e.data["status"]) for e in events if e.type == "order.status_changed"]
    assert changes == [("pending", "paid"), ("paid", "cancelled")]


async def test_stock_falling_to_the_threshold_emits_stock_low_once(
    client: AsyncClient, factory: Factory, database: Database, settings: Settings
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=settings.stock_low_threshold + 2, sku="MUG-1")
    for _ in range(3):
        await client.post(ORDERS, json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers)

    _, events = await outbox(database)
    low = [e for e in events if e.type == "stock.low"]
    variant_id = (await factory.reload(Product, product.id)).variants[0].id
    assert [(e.data, e.audience) for e in low] == [
        (
            {"product_id": product.id, "variant_id": variant_id, "sku": "MUG-1", "stock": settings.stock_low_threshold},
            "staff",
        )
    ]


async def test_the_confirmation_names_the_variants(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"], "Colour": ["Blue"]},
        [
            {"options": {"Size": "S", "Colour": "Blue"}, "sku": "TEE-S-B"},
            {"options": {"Size": "M", "Colour": "Blue"}, "sku": "TEE-M-B"},
        ],
        name="Tee",
    )
    medium = (await factory.reload(Product, product.id)).variants[1]

    placed = await client.post(
        ORDERS, json={"items": [{"variant_id": medium.id, "quantity": 1}]}, headers=buyer.headers
    )

    assert placed.status_code == 201, placed.text
    [email], _ = await outbox(database)
    assert "1 \u00d7 Tee (Size: M, Colour: Blue) [TEE-M-B] at 10.00" in email.body_text
    assert email.body_html is not None
    assert "Tee (Size: M, Colour: Blue) <small>TEE-M-B</small>" in email.body_html


async def test_the_confirmation_shows_the_breakdown_and_how_to_pay(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer(full_name="Ada Lovelace")
    cup = await factory.product(name="Cup", price=Decimal("12.10"))
    pot = await factory.product(name="Pot", price=Decimal("0.10"))
    address = {
        "name": "Ada Lovelace",
        "line1": "1 Main Street",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }

    placed = await client.post(
        ORDERS,
        json={
            "items": [{"product_id": cup.id, "quantity": 3}, {"product_id": pot.id, "quantity": 1}],
            "shipping_address": address,
        },
        headers=buyer.headers,
    )

    order = placed.json()
    [email], _ = await outbox(database)
    due = datetime.fromisoformat(order["payment_due_at"]).strftime("%Y-%m-%d %H:%M UTC")
    text = email.body_text
    for line in (
        "3 \u00d7 Cup at 12.10 = 36.30 EUR",
        "1 \u00d7 Pot at 0.10 = 0.10 EUR",
        "Subtotal: 36.40 EUR",
        "Discount: 0.00 EUR",
        "Shipping: 0.00 EUR",
        "Tax: 0.00 EUR",
        "Total: 36.40 EUR",
        "Shipping to:\n  Ada Lovelace\n  1 Main Street\n  10115 Berlin\n  DE",
        f"How to pay:\n{order['payment']['instructions']}",
        f"Payment is due by {due}",
    ):
        assert line in text, line
    assert f"#{order['id']}" in order["payment"]["instructions"]
    assert "36.40 EUR" in order["payment"]["instructions"]
    html = email.body_html or ""
    for cell in ("<td>Subtotal</td><td>36.40 EUR</td>", "<td>Tax</td><td>0.00 EUR</td>", "<strong>36.40 EUR</strong>"):
        assert cell in html, cell
    assert order["payment"]["instructions"] in html
