from httpx import AsyncClient

from tests.factories import Factory


async def test_health(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_product_roundtrip(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    created = await client.post(
        "/api/v1/products", json={"name": "Cup", "price": 12.5, "stock": 2}, headers=staff.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["price"] == "12.50"
    listed = await client.get("/api/v1/products")
    assert listed.headers["X-Total-Count"] == "1"
