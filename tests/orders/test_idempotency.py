"""Idempotency-Key: retries replay the first answer and create nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update

from storefront import retention
from storefront.database import Database
from storefront.db import utcnow
from storefront.idempotency import Idempotency
from storefront.models import IdempotencyRecord, Order, Product
from tests.factories import Factory

ORDERS = "/api/v1/orders"


async def count(database: Database, model: type[object]) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_sequential_replays_return_the_first_answer(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 2}]}
    headers = buyer.headers | {"Idempotency-Key": "order-123"}

    first = await client.post(ORDERS, json=body, headers=headers)
    replays = [await client.post(ORDERS, json=body, headers=headers) for _ in range(5)]

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    for replay in replays:
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.headers["Location"] == first.headers["Location"]
        assert replay.json() == first.json()
    assert await count(database, Order) == 1
    assert (await factory.reload(Product, product.id)).stock == 8


async def test_concurrent_replays_create_exactly_one_order(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=100)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    headers = buyer.headers | {"Idempotency-Key": "same-key"}

    responses = await asyncio.gather(*(client.post(ORDERS, json=body, headers=headers) for _ in range(20)))

    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    for response in responses:
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_use"
    assert await count(database, Order) == 1
    assert (await factory.reload(Product, product.id)).stock == 99
    # Once the first has finished, a retry is answered from the stored response.
    retry = await client.post(ORDERS, json=body, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"


async def test_the_stored_answer_is_the_first_ones_status_body_and_location(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    headers = buyer.headers | {"Idempotency-Key": "stored"}

    first = await client.post(ORDERS, json=body, headers=headers)
    replay = await client.post(ORDERS, json=body, headers=headers)

    async with database.read_session() as session:
        record = (await session.scalars(select(IdempotencyRecord))).one()
    assert (record.user_id, record.key, record.response_status) == (buyer.id, "stored", 201)
    assert record.location == first.headers["Location"] == f"{ORDERS}/{first.json()['id']}"
    # The ETag is the order's at the time; a replay does not claim it is still current.
    assert "ETag" in first.headers
    assert "ETag" not in replay.headers


async def test_two_requests_past_the_lookup_at_once_make_one_order(
    client: AsyncClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    headers = buyer.headers | {"Idempotency-Key": "raced"}
    assert (await client.post(ORDERS, json=body, headers=headers)).status_code == 201

    async def nothing_stored(*_: object) -> None:
        return None

    # As if the second had looked before the first committed: the unique (user, key) row decides.
    monkeypatch.setattr(Idempotency, "_replay", nothing_stored)
    second = await client.post(ORDERS, json=body, headers=headers)

    assert second.status_code == 409
    assert second.json()["code"] == "idempotency_key_in_use"
    assert await count(database, Order) == 1
    assert (await factory.reload(Product, product.id)).stock == 9


async def test_same_key_with_another_body_is_422(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    headers = buyer.headers | {"Idempotency-Key": "k1"}
    await client.post(ORDERS, json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=headers)

    response = await client.post(ORDERS, json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=headers)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert await count(database, Order) == 1
    assert (await factory.reload(Product, product.id)).stock == 9


async def test_key_order_and_whitespace_in_the_body_do_not_matter(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    headers = buyer.headers | {"Idempotency-Key": "k2", "Content-Type": "application/json"}
    first = await client.post(
        ORDERS, content=f'{{"items":[{{"product_id":{product.id},"quantity":1}}]}}', headers=headers
    )
    again = await client.post(
        ORDERS, content=f'{{ "items": [ {{ "quantity": 1, "product_id": {product.id} }} ] }}', headers=headers
    )
    assert first.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_keys_belong_to_one_user(client: AsyncClient, factory: Factory, database: Database) -> None:
    alice, bob = await factory.customer(), await factory.customer()
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}

    a = await client.post(ORDERS, json=body, headers=alice.headers | {"Idempotency-Key": "shared"})
    b = await client.post(ORDERS, json=body, headers=bob.headers | {"Idempotency-Key": "shared"})

    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert a.json()["user_id"] == alice.id
    assert b.json()["user_id"] == bob.id
    assert await count(database, Order) == 2


async def test_a_failed_request_stores_nothing_and_may_be_retried(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=0)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    headers = buyer.headers | {"Idempotency-Key": "retry-me"}

    refused = await client.post(ORDERS, json=body, headers=headers)
    await client.post(f"/api/v1/products/{product.id}/stock", json={"delta": 1}, headers=staff.headers)
    retried = await client.post(ORDERS, json=body, headers=headers)

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert await count(database, IdempotencyRecord) == 1


async def test_key_longer_than_255_is_422(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    response = await client.post(
        ORDERS,
        json={"items": [{"product_id": product.id, "quantity": 1}]},
        headers=buyer.headers | {"Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 422
    assert await count(database, Order) == 0


async def test_expired_keys_are_forgotten_and_purged(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}
    headers = buyer.headers | {"Idempotency-Key": "old"}
    await client.post(ORDERS, json=body, headers=headers)
    async with database.write_session() as session, session.begin():
        await session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))

    again = await client.post(ORDERS, json=body, headers=headers)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert await count(database, Order) == 2

    async with database.write_session() as session, session.begin():
        await session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert (await retention.prune(session, database.settings.retention_days))["idempotency_keys"] == 1
    assert await count(database, IdempotencyRecord) == 0
