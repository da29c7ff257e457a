"""/metrics: request histograms by route template, in-flight, backlog, streams, pool."""

from __future__ import annotations

import re

from httpx import AsyncClient

from storefront.database import Database
from tests.factories import Factory


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_requests_are_counted_by_route_template(client: AsyncClient, factory: Factory) -> None:
    products = [await factory.product() for _ in range(3)]
    route = "/api/v1/products/{product_id}"
    before = (await client.get("/metrics")).text

    for product in products:
        assert (await client.get(f"/api/v1/products/{product.id}")).status_code == 200
    assert (await client.get("/api/v1/products/999999")).status_code == 404
    await client.get("/no/such/path/123")

    after = await client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    ok = {"method": "GET", "route": route, "status": "200"}
    assert (
        sample(text, "storefront_http_requests_total", **ok) - sample(before, "storefront_http_requests_total", **ok)
        == 3
    )
    missing = {"method": "GET", "route": route, "status": "404"}
    assert (
        sample(text, "storefront_http_requests_total", **missing)
        - sample(before, "storefront_http_requests_total", **missing)
        == 1
    )
    count = "storefront_http_request_duration_seconds_count"
    assert sample(text, count, method="GET", route=route) - sample(before, count, method="GET", route=route) == 4
    assert 'le="0.005"' in text
    # Raw paths never become labels.
    assert f"/api/v1/products/{products[0].id}" not in text
    assert "/no/such/path/123" not in text
    assert sample(text, "storefront_http_requests_in_flight") == 1  # the scrape itself


async def test_backlog_streams_and_pool_are_reported(client: AsyncClient, database: Database) -> None:
    async with database.transaction() as session:
        for n in range(3):
            await session.queue_message(to=f"u{n}@example.com", subject="s", text="t")

    text = (await client.get("/metrics")).text

    assert sample(text, "storefront_emails", status="queued") == 3
    assert sample(text, "storefront_emails", status="failed") == 0
    assert "storefront_event_streams_open" in text
    assert "storefront_db_connections_in_use" in text
