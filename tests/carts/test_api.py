"""Carts over HTTP: held by a token, bound to a user when made with a bearer, priced live."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select, update

from storefront import retention
from storefront.carts.repository import digest
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Cart, CartItem, Product, ProductVariant
from tests.factories import Factory


async def new_cart(client: AsyncClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.post("/api/v1/carts", headers=headers or {})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def count(database: Database, model: type[Cart] | type[CartItem]) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_new_cart_is_empty_and_named_by_an_unguessable_token(client: AsyncClient, database: Database) -> None:
    response = await client.post("/api/v1/carts")

    assert response.status_code == 201
    cart = response.json()
    assert len(cart["id"]) == 32  # 192 random bits
    assert response.headers["Location"] == f"/api/v1/carts/{cart['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    assert cart["items"] == []
    assert (cart["subtotal"], cart["total"], cart["currency"]) == ("0.00", "0.00", "EUR")
    async with database.read_session() as session:
        stored = await session.scalar(select(Cart.token_digest))
    assert stored == digest(cart["id"]) != cart["id"]  # the token itself is never stored


async def test_lines_are_priced_live(client: AsyncClient, factory: Factory, database: Database) -> None:
    mug = await factory.product(name="Mug", price=Decimal("12.50"), stock=10)
    cart = await new_cart(client)
    url = f"/api/v1/carts/{cart['id']}"

    put = await client.put(f"{url}/items/{mug.id}", json={"quantity": 3})
    assert put.status_code == 200, put.text
    assert put.json()["subtotal"] == "37.50"

    async with database.transaction() as session:
        await session.execute(update(ProductVariant).where(ProductVariant.product_id == mug.id).values(price=20))
    priced = (await client.get(url)).json()

    [line] = priced["items"]
    assert line["product_id"] == mug.id
    assert (line["name"], line["unit_price"], line["quantity"], line["line_total"]) == ("Mug", "20.00", 3, "60.00")
    assert line["available"] is True
    assert (priced["subtotal"], priced["total"]) == ("60.00", "60.00")


async def test_setting_a_line_again_replaces_its_quantity(client: AsyncClient, factory: Factory) -> None:
    mug = await factory.product(price=Decimal("2.00"))
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"
    await client.put(f"{url}/items/{mug.id}", json={"quantity": 3})

    cart = (await client.put(f"{url}/items/{mug.id}", json={"quantity": 1})).json()

    assert [line["quantity"] for line in cart["items"]] == [1]
    assert cart["subtotal"] == "2.00"


async def test_a_line_short_of_stock_or_archived_is_shown_unavailable(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    scarce = await factory.product(stock=2)
    gone = await factory.product(stock=5)
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"
    await client.put(f"{url}/items/{scarce.id}", json={"quantity": 3})
    await client.put(f"{url}/items/{gone.id}", json={"quantity": 1})
    async with database.transaction() as session:
        await session.execute(update(Product).where(Product.id == gone.id).values(archived=True))

    available = {line["product_id"]: line["available"] for line in (await client.get(url)).json()["items"]}

    assert available == {scarce.id: False, gone.id: False}


async def test_variants_are_one_line_each(client: AsyncClient, factory: Factory) -> None:
    shirt = await factory.product_with_variants(
        {"Size": ["S", "M"]},
        [
            {"options": {"Size": "S"}, "sku": "TEE-S", "price": Decimal("10.00")},
            {"options": {"Size": "M"}, "sku": "TEE-M", "price": Decimal("12.00")},
        ],
    )
    small, medium = (await factory.reload(Product, shirt.id)).variants
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"

    refused = await client.put(f"{url}/items/{shirt.id}", json={"quantity": 1})
    await client.put(f"{url}/items/{shirt.id}", json={"quantity": 1, "variant_id": small.id})
    cart = (await client.put(f"{url}/items/{shirt.id}", json={"quantity": 2, "variant_id": medium.id})).json()

    assert refused.status_code == 422
    assert refused.json()["code"] == "variant_required"
    assert [(line["sku"], line["options"], line["quantity"]) for line in cart["items"]] == [
        ("TEE-S", {"Size": "S"}, 1),
        ("TEE-M", {"Size": "M"}, 2),
    ]
    assert cart["subtotal"] == "34.00"

    ambiguous = await client.delete(f"{url}/items/{shirt.id}")
    removed = await client.delete(f"{url}/items/{shirt.id}", params={"variant_id": small.id})

    assert ambiguous.status_code == 422
    assert ambiguous.json()["code"] == "variant_required"
    assert [line["sku"] for line in removed.json()["items"]] == ["TEE-M"]


async def test_removing_a_line(client: AsyncClient, factory: Factory, database: Database) -> None:
    mug = await factory.product()
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"
    await client.put(f"{url}/items/{mug.id}", json={"quantity": 2})

    first = await client.delete(f"{url}/items/{mug.id}")
    again = await client.delete(f"{url}/items/{mug.id}")

    assert first.status_code == again.status_code == 200
    assert first.json()["items"] == []
    assert await count(database, CartItem) == 0


async def test_a_cart_made_with_a_bearer_is_its_owners_alone(client: AsyncClient, factory: Factory) -> None:
    owner, other = await factory.customer(), await factory.customer()
    mug = await factory.product()
    cart = await new_cart(client, owner.headers)
    url = f"/api/v1/carts/{cart['id']}"

    for headers in ({}, other.headers):
        assert (await client.get(url, headers=headers)).status_code == 404
        refused = await client.put(f"{url}/items/{mug.id}", json={"quantity": 1}, headers=headers)
        assert refused.status_code == 404
        assert refused.json()["code"] == "cart_not_found"
    assert (await client.get(url, headers=owner.headers)).json()["items"] == []


async def test_an_anonymous_cart_is_open_to_whoever_holds_its_token(client: AsyncClient, factory: Factory) -> None:
    customer = await factory.customer()
    mug = await factory.product()
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"

    await client.put(f"{url}/items/{mug.id}", json={"quantity": 1}, headers=customer.headers)

    assert [line["quantity"] for line in (await client.get(url)).json()["items"]] == [1]


async def test_bad_input_is_refused_and_changes_nothing(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    mug = await factory.product()
    archived = await factory.product(archived=True)
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (f"{url}/items/{mug.id}", {"quantity": 0}, 422, "validation_error"),
        (f"{url}/items/{mug.id}", {"quantity": 1001}, 422, "validation_error"),
        (f"{url}/items/{mug.id}", {"quantity": "2"}, 422, "validation_error"),
        (f"{url}/items/{mug.id}", {"quantity": 1, "variant_id": None}, 422, "validation_error"),
        (f"{url}/items/{mug.id}", {"quantity": 1, "price": "0.01"}, 422, "validation_error"),
        (f"{url}/items/{archived.id}", {"quantity": 1}, 422, "unknown_product"),
        (f"{url}/items/999999", {"quantity": 1}, 422, "unknown_product"),
        (f"{url}/items/{mug.id}", {"quantity": 1, "variant_id": 999999}, 422, "unknown_product"),
        ("/api/v1/carts/not-a-token/items/1", {"quantity": 1}, 422, "validation_error"),
        (f"/api/v1/carts/{'A' * 32}/items/{mug.id}", {"quantity": 1}, 404, "cart_not_found"),
    ]
    for path, body, status, code in cases:
        response = await client.put(path, json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert await count(database, CartItem) == 0


async def test_a_cart_holds_at_most_50_lines(client: AsyncClient, factory: Factory, database: Database) -> None:
    products = [await factory.product() for _ in range(51)]
    url = f"/api/v1/carts/{(await new_cart(client))['id']}"
    for product in products[:50]:
        assert (await client.put(f"{url}/items/{product.id}", json={"quantity": 1})).status_code == 200

    refused = await client.put(f"{url}/items/{products[50].id}", json={"quantity": 1})
    changed = await client.put(f"{url}/items/{products[0].id}", json={"quantity": 2})

    assert refused.status_code == 422
    assert refused.json()["code"] == "too_many_lines"
    assert changed.status_code == 200  # an existing line still changes
    assert await count(database, CartItem) == 50


async def test_carts_unchanged_for_their_time_to_live_are_pruned(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    mug = await factory.product()
    stale, fresh = await new_cart(client), await new_cart(client)
    await client.put(f"/api/v1/carts/{stale['id']}/items/{mug.id}", json={"quantity": 1})
    ttl = database.settings.cart_ttl_days
    async with database.transaction() as session:
        old = utcnow() - timedelta(days=ttl, minutes=1)
        await session.execute(update(Cart).where(Cart.token_digest == digest(stale["id"])).values(updated_at=old))

    async with database.transaction() as session:
        pruned = await retention.prune(session, database.settings.retention_days, cart_ttl_days=ttl)

    assert pruned["carts"] == 1
    assert (await client.get(f"/api/v1/carts/{stale['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/carts/{fresh['id']}")).status_code == 200
    assert await count(database, CartItem) == 0


async def test_a_change_moves_the_expiry_on(client: AsyncClient, factory: Factory, database: Database) -> None:
    mug = await factory.product()
    cart = await new_cart(client)
    async with database.transaction() as session:
        old = utcnow() - timedelta(days=3)
        await session.execute(update(Cart).values(updated_at=old))
    before = (await client.get(f"/api/v1/carts/{cart['id']}")).json()["expires_at"]

    after = (await client.put(f"/api/v1/carts/{cart['id']}/items/{mug.id}", json={"quantity": 1})).json()

    assert after["expires_at"] > before
