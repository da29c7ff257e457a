"""GET /users/export.csv: every user as CSV, streamed, for admins only."""

from __future__ import annotations

import csv
import io

import pytest
from httpx import AsyncClient

from storefront.database import Database
from storefront.models import Role, User
from tests.conftest import LiveServer
from tests.factories import Factory
from tests.users.helpers import assert_problem

EXPORT = "/api/v1/users/export.csv"


async def test_admins_get_every_user_as_csv(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin(full_name="Ada Admin")
    customer = await factory.customer(full_name=None, is_active=False)

    response = await client.get(EXPORT, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="users.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "email", "username", "full_name", "role", "is_active", "created_at"]
    assert rows[1][:6] == [str(admin.id), admin.user.email, admin.user.username, "Ada Admin", "admin", "true"]
    assert rows[2][:6] == [str(customer.id), customer.user.email, customer.user.username, "", "customer", "false"]
    assert rows[1][6].endswith("+00:00")
    assert len(rows) == 3
    assert admin.user.password_hash not in response.text


async def test_the_export_is_not_mistaken_for_a_user_id(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    response = await client.get(EXPORT, headers=admin.headers)

    assert response.status_code == 200
    assert "user_not_found" not in response.text


@pytest.mark.parametrize("role", [Role.customer, Role.staff])
async def test_only_admins_may_export(client: AsyncClient, factory: Factory, role: Role) -> None:
    actor = await factory.user(role)

    assert_problem(await client.get(EXPORT, headers=actor.headers), 403, "forbidden")


async def test_the_export_needs_credentials(client: AsyncClient) -> None:
    assert_problem(await client.get(EXPORT), 401, "not_authenticated")


async def test_names_that_a_spreadsheet_would_run_as_formulas_are_defused(
    client: AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    await factory.customer(full_name='=HYPERLINK("http://evil.example","x")')

    response = await client.get(EXPORT, headers=admin.headers)

    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[2][3] == '\'=HYPERLINK("http://evil.example","x")'


async def test_many_users_arrive_in_several_chunks(
    live_server: LiveServer, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    async with database.write_session() as session, session.begin():
        session.add_all(
            User(email=f"bulk{n}@example.com", username=f"bulk{n}", full_name="x" * 190, password_hash="!")
            for n in range(600)
        )

    chunks = []
    # Over real HTTP and uncompressed, so each chunk the server sends arrives as one.
    headers = admin.headers | {"Accept-Encoding": "identity"}
    async with (
        AsyncClient(base_url=live_server.url) as client,
        client.stream("GET", EXPORT, headers=headers) as response,
    ):
        assert response.headers.get("transfer-encoding") == "chunked"
        async for chunk in response.aiter_raw():
            chunks.append(chunk)

    assert len(chunks) > 1
    assert len(b"".join(chunks).decode().splitlines()) == 602
