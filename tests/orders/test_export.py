"""Streamed order exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

from httpx import AsyncClient

from storefront.models import Product
from tests.factories import Factory

EXPORT = "/api/v1/orders/export"


async def test_csv_export_streams_every_order(client: AsyncClient, factory: Factory) -> None:
    buyers = [await factory.customer() for _ in range(3)]
    staff = await factory.staff()
    product = await factory.product(stock=100)
    for n in range(7):
        placed = await client.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product.id, "quantity": n + 1}]},
            headers=buyers[n % 3].headers,
        )
        assert placed.status_code == 201

    async with client.stream("GET", EXPORT, params={"format": "csv"}, headers=staff.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed, not buffered
        text = "".join([chunk async for chunk in response.aiter_text()])

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7
    assert list(rows[0].keys()) == [
        "id", "user_id", "status", "lines",
        "subtotal", "discount_code", "discount_total", "shipping_method", "shipping_total", "tax_total", "total",
        "refunded_total", "currency",
        "payment_provider", "payment_status", "payment_due_at",
        "shipping_name", "shipping_line1", "shipping_line2", "shipping_city", "shipping_postal_code",
        "shipping_region", "shipping_country", "shipping_phone",
        "note", "created_at", "updated_at", "items",
    ]  # fmt: skip
    assert [row["total"] for row in rows] == [f"{10 * (n + 1)}.00" for n in range(7)]
    assert {int(row["user_id"]) for row in rows} == {b.id for b in buyers}


async def test_jsonl_export_has_whole_orders(client: AsyncClient, factory: Factory) -> None:
    buyer, admin = await factory.customer(), await factory.admin()
    a, b = await factory.product(stock=5), await factory.product(stock=5)
    await client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": a.id, "quantity": 1}, {"product_id": b.id, "quantity": 2}]},
        headers=buyer.headers,
    )

    response = await client.get(EXPORT, params={"format": "jsonl"}, headers=admin.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = response.text.strip().split("\n")
    assert len(lines) == 1
    order = json.loads(lines[0])
    assert order["user_id"] == buyer.id
    assert [(i["product_id"], i["quantity"]) for i in order["items"]] == [(a.id, 1), (b.id, 2)]
    assert order["total"] == "30.00"


async def test_export_is_for_staff_only(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    assert (await client.get(EXPORT, headers=buyer.headers)).status_code == 403
    assert (await client.get(EXPORT)).status_code == 401


async def test_export_format_is_checked(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    response = await client.get(EXPORT, params={"format": "xlsx"}, headers=staff.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_exports_show_the_variants_sold(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"]},
        [{"options": {"Size": "S"}, "sku": "TEE-S"}, {"options": {"Size": "M"}, "sku": "TEE-M"}],
        name="Tee",
    )
    mug = await factory.product(name="Mug")
    medium = (await factory.reload(Product, product.id)).variants[1]
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"variant_id": medium.id, "quantity": 2}, {"product_id": mug.id, "quantity": 1}]},
        headers=buyer.headers,
    )
    assert placed.status_code == 201, placed.text
    mug_variant = placed.json()["items"][1]["variant_id"]

    csv_export = await client.get(EXPORT, params={"format": "csv"}, headers=staff.headers)
    jsonl = await client.get(EXPORT, params={"format": "jsonl"}, headers=staff.headers)

    [row] = list(csv.DictReader(io.StringIO(csv_export.text)))
    assert row["items"] == f"2 x Tee (Size: M) [TEE-M] #{medium.id}; 1 x Mug #{mug_variant}"
    items = json.loads(jsonl.text)["items"]
    assert [(i["variant_id"], i["sku"], i["options"]) for i in items] == [
        (medium.id, "TEE-M", {"Size": "M"}),
        (mug_variant, None, {}),
    ]


async def test_exports_carry_the_breakdown_the_payment_and_the_address(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=5, price=Decimal("12.50"))
    address = {
        "name": "=HYPERLINK(1)",  # a formula to a spreadsheet: exported as text
        "line1": "1 Main Street",
        "line2": "Flat 2",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "phone": "+49 30 1234567",
    }
    placed = await client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product.id, "quantity": 2}], "shipping_address": address},
        headers=buyer.headers,
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()

    csv_export = await client.get(EXPORT, params={"format": "csv"}, headers=staff.headers)
    jsonl = await client.get(EXPORT, params={"format": "jsonl"}, headers=staff.headers)

    [row] = list(csv.DictReader(io.StringIO(csv_export.text)))
    assert {key: row[key] for key in ("subtotal", "discount_total", "shipping_total", "tax_total", "total")} == {
        "subtotal": "25.00", "discount_total": "0.00", "shipping_total": "0.00", "tax_total": "0.00", "total": "25.00"
    }  # fmt: skip
    assert (row["discount_code"], row["shipping_method"], row["refunded_total"]) == ("", "", "0.00")
    assert (row["payment_provider"], row["payment_status"]) == ("manual", "requires_action")
    assert datetime.fromisoformat(row["payment_due_at"]) == datetime.fromisoformat(order["payment_due_at"])
    # Text a spreadsheet would take for a formula (`=`, `+`, ...) starts with a quote.
    assert {key: row[f"shipping_{key}"] for key in address} == address | {
        "name": "'=HYPERLINK(1)",
        "phone": "'+49 30 1234567",
    }
    assert (row["shipping_region"], row["note"]) == ("", "")
    exported = json.loads(jsonl.text)
    assert exported["payment"] == order["payment"]
    assert exported["shipping_address"] == order["shipping_address"]
    assert exported["payment_due_at"] == order["payment_due_at"]
    assert [(item["discount"], item["tax"]) for item in exported["items"]] == [("0.00", "0.00")]
