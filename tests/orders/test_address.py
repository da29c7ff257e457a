"""Orders ship to a structured address: checked as sent, stored as JSON, and older
addresses (one line of text) still read back."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Order, Product
from tests.factories import Factory

ORDERS = "/api/v1/orders"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}


async def test_an_address_is_stored_cleaned(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product()
    sent = ADDRESS | {"name": "  Ada Lovelace ", "country": "de", "line2": " ", "region": "Berlin", "phone": ""}

    placed = await client.post(
        ORDERS,
        json={"items": [{"product_id": product.id, "quantity": 1}], "shipping_address": sent},
        headers=buyer.headers,
    )

    assert placed.status_code == 201, placed.text
    expected = ADDRESS | {"line2": None, "region": "Berlin", "phone": None}
    assert placed.json()["shipping_address"] == expected
    read = await client.get(f"{ORDERS}/{placed.json()['id']}", headers=buyer.headers)
    assert read.json()["shipping_address"] == expected


@pytest.mark.parametrize(
    "address",
    [
        ADDRESS | {"country": "XX"},
        ADDRESS | {"country": "DEU"},
        ADDRESS | {"country": "Germany"},
        ADDRESS | {"country": 49},
        {key: value for key, value in ADDRESS.items() if key != "name"},
        {key: value for key, value in ADDRESS.items() if key != "country"},
        ADDRESS | {"city": "   "},
        ADDRESS | {"line1": "x" * 201},
        ADDRESS | {"postal_code": "1" * 21},
        ADDRESS | {"phone": "1" * 33},
        ADDRESS | {"name": "Ada\x00"},
        ADDRESS | {"email": "ada@example.com"},
        "1 Main Street, 10115 Berlin",
    ],
    ids=[
        "unknown-country", "alpha-3", "country-name", "country-number", "no-name", "no-country", "blank-city",
        "long-line", "long-postal-code", "long-phone", "nul", "unknown-field", "one-line-of-text",
    ],
)  # fmt: skip
async def test_a_bad_address_is_422_and_takes_nothing(
    client: AsyncClient, factory: Factory, database: Database, address: Any
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)

    response = await client.post(
        ORDERS,
        json={"items": [{"product_id": product.id, "quantity": 1}], "shipping_address": address},
        headers=buyer.headers,
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][:2] == ["body", "shipping_address"]
    assert (await factory.reload(Product, product.id)).stock == 5
    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0


async def test_an_address_from_before_structured_addresses_still_reads(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    """As migration 0009 leaves it: the old text in `line1`, the fields it could not tell empty."""
    buyer, staff = await factory.customer(), await factory.staff()
    legacy = {"name": "", "line1": "1 Main Street, 1000 Brussels, Belgium", "line2": None, "city": "",
              "postal_code": "", "region": None, "country": "", "phone": None}  # fmt: skip
    async with database.transaction() as session:
        order = Order(user_id=buyer.id, status="paid", subtotal=5, total=5, currency="EUR", items=[])
        order.shipping_address = legacy
        session.add(order)

    read = await client.get(f"{ORDERS}/{order.id}", headers=buyer.headers)
    exported = await client.get(f"{ORDERS}/export", params={"format": "csv"}, headers=staff.headers)

    assert read.status_code == 200, read.text
    assert read.json()["shipping_address"] == legacy
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert (row["shipping_line1"], row["shipping_country"]) == ("1 Main Street, 1000 Brussels, Belgium", "")
