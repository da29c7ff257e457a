"""A forged `Host` never reaches a `Location` the admin sends."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from storefront.admin.redirects import relative
from storefront.database import Database
from storefront.models import Email, EmailStatus
from tests.factories import PASSWORD, Factory

FORGED = {"Host": "evil.example"}


async def test_a_forged_host_never_appears_in_an_admin_location(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    product = await factory.product(name="Teapot", stock=3)
    async with database.transaction() as session:
        failed = Email(kind="message", to="a@example.com", subject="s", body_text="b", status=EmailStatus.failed)
        session.add(failed)
    edit = {"name": "Teapot", "description": "", "price": "12.50", "category": "", "sku": "", "stock": "3"}
    credentials = {"username": admin.user.username, "password": PASSWORD}

    async def get(path: str) -> Response:
        return await client.get(path, headers=FORGED, follow_redirects=False)

    redirects = [
        await get("/admin"),
        await get("/admin/"),
        await get("/admin/product/list"),
        await client.post("/admin/login", data=credentials, headers=FORGED, follow_redirects=False),
        await get("/admin"),
        await client.post(f"/admin/product/edit/{product.id}", data=edit, headers=FORGED, follow_redirects=False),
        await get(f"/admin/email/action/retry?pks={failed.id}"),
        await get("/admin/logout"),
        await get("/admin/user/list"),
    ]

    assert all(response.status_code in (302, 303, 307) for response in redirects), [
        (r.request.url.path, r.status_code) for r in redirects
    ]
    locations = [response.headers["location"] for response in redirects]
    assert all(location.startswith("/admin") for location in locations), locations
    assert not any("evil.example" in location for location in locations)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://evil.example/admin/login", "/admin/login"),
        ("https://evil.example:8443/admin/user/list?page=2#top", "/admin/user/list?page=2#top"),
        ("http://evil.example//other.example/x", "/other.example/x"),
        ("http://evil.example", "/"),
        ("//evil.example/admin/", "/admin/"),
        ("/admin/", "/admin/"),
    ],
)
def test_relative_keeps_only_the_path(location: str, expected: str) -> None:
    assert relative(location) == expected
