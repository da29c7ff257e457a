"""Streamed product exports."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from httpx import AsyncClient

from tests.factories import Factory

EXPORT = "/api/v1/products/export"


async def test_csv_export_has_every_product_archived_too(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    kept = await factory.product(name='Mug, "large"', price=Decimal("4.50"), sku="MUG-L")
    gone = await factory.product(name="Old", archived=True)

    response = await client.get(EXPORT, params={"format": "csv"}, headers=staff.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="products.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(int(r["id"]), r["name"], r["archived"]) for r in rows] == [
        (kept.id, 'Mug, "large"', "false"),
        (gone.id, "Old", "true"),
    ]
    assert rows[0]["price"] == "4.50"
    assert rows[0]["sku"] == "MUG-L"


async def test_jsonl_export_lines_are_products(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    products = [await factory.product() for _ in range(3)]

    response = await client.get(EXPORT, params={"format": "jsonl"}, headers=admin.headers)

    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [p.id for p in products]
    assert lines[0]["price"] == "10.00"
    assert set(lines[0]) >= {"id", "sku", "name", "price", "stock", "in_stock", "archived", "image_url"}


async def test_export_is_for_staff(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    assert (await client.get(EXPORT, headers=buyer.headers)).status_code == 403
    assert (await client.get(EXPORT)).status_code == 401


async def test_csv_cells_that_would_be_formulas_are_neutralised(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    names = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "Plain - name"]
    for n, name in enumerate(names):
        await factory.product(name=name, description="=1+1", category="@cat", sku=f"-SKU{n}")

    response = await client.get(EXPORT, params={"format": "csv"}, headers=staff.headers)

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["name"] for row in rows] == ["'" + name for name in names[:-1]] + ["Plain - name"]
    assert {(row["description"], row["category"]) for row in rows} == {("'=1+1", "'@cat")}
    assert [row["sku"] for row in rows] == [f"'-SKU{n}" for n in range(len(names))]
    # JSON Lines is data, not a sheet: the names come back as they are.
    jsonl = await client.get(EXPORT, params={"format": "jsonl"}, headers=staff.headers)
    assert [json.loads(line)["name"] for line in jsonl.text.splitlines()] == names


async def test_exports_carry_every_variant(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    mug = await factory.product(name="Mug", sku="MUG-1", price=Decimal("4.00"), stock=3)
    tee = await factory.product_with_variants(
        {"Size": ["S", "M"], "Colour": ["Blue"]},
        [
            {"options": {"Size": "S", "Colour": "Blue"}, "sku": "TEE-S", "price": Decimal("20.00"), "stock": 2},
            {"options": {"Size": "M", "Colour": "Blue"}, "sku": "TEE-M", "stock": 0, "archived": True},
        ],
        name="Tee",
    )

    response = await client.get(EXPORT, params={"format": "csv"}, headers=staff.headers)
    jsonl = await client.get(EXPORT, params={"format": "jsonl"}, headers=staff.headers)

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(int(r["id"]), r["sku"], r["price"], r["stock"], r["options"], r["variant_archived"]) for r in rows] == [
        (mug.id, "MUG-1", "4.00", "3", "", "false"),
        (tee.id, "TEE-S", "20.00", "2", "Size=S; Colour=Blue", "false"),
        (tee.id, "TEE-M", "10.00", "0", "Size=M; Colour=Blue", "true"),
    ]
    assert len({r["variant_id"] for r in rows}) == 3
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [[v["sku"] for v in line["variants"]] for line in lines] == [["MUG-1"], ["TEE-S", "TEE-M"]]
