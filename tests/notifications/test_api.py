"""The admin notifications endpoints."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Email
from tests.factories import Factory

URL = "/api/v1/notifications"


async def emails_in_outbox(database: Database) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(Email)) or 0)


async def test_admin_queues_an_email(client: AsyncClient, factory: Factory, database: Database) -> None:
    admin = await factory.admin()
    response = await client.post(
        f"{URL}/email", json={"to": "ada@example.com", "subject": "Hello", "body": "Hi Ada"}, headers=admin.headers
    )

    assert response.status_code == 202
    body = response.json()
    assert body == {"id": body["id"], "status": "queued"}
    assert response.headers["Location"] == f"{URL}/{body['id']}"

    shown = await client.get(response.headers["Location"], headers=admin.headers)
    assert shown.status_code == 200
    assert shown.json() | {"created_at": None} == {
        "id": body["id"],
        "to": "ada@example.com",
        "subject": "Hello",
        "status": "queued",
        "attempts": 0,
        "last_error": None,
        "created_at": None,
        "sent_at": None,
    }


async def test_only_admins_use_notifications(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    body = {"to": "ada@example.com", "subject": "Hello", "body": "Hi"}
    assert (await client.post(f"{URL}/email", json=body, headers=staff.headers)).status_code == 403
    assert (await client.post(f"{URL}/email", json=body)).status_code == 401
    assert (await client.get(URL, headers=staff.headers)).status_code == 403
    assert await emails_in_outbox(database) == 0


async def test_bad_email_requests_are_422_and_queue_nothing(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    for body in (
        {"to": "not-an-address", "subject": "x", "body": "y"},
        {"to": "ada@example.com", "subject": "", "body": "y"},
        {"to": "ada@example.com", "subject": "s" * 201, "body": "y"},
        {"to": "ada@example.com", "subject": "x", "body": "b" * 10_001},
        {"to": "ada@example.com", "subject": "x", "body": "y", "status": "sent"},
        {"to": "ada@example.com", "subject": "Hi\r\nBcc: everyone@example.com", "body": "y"},
        {"to": "ada@example.com", "subject": "Hi\nthere", "body": "y"},
        {"to": "ada@example.com", "subject": "Hi\rthere", "body": "y"},
    ):
        response = await client.post(f"{URL}/email", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    assert await emails_in_outbox(database) == 0


async def test_list_filters_by_status_and_unknown_is_404(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    for n in range(3):
        await client.post(
            f"{URL}/email", json={"to": f"u{n}@example.com", "subject": f"s{n}", "body": "b"}, headers=admin.headers
        )

    queued = await client.get(URL, params={"status": "queued"}, headers=admin.headers)
    assert queued.status_code == 200
    assert [e["subject"] for e in queued.json()] == ["s2", "s1", "s0"]
    assert queued.headers["X-Total-Count"] == "3"
    sent = await client.get(URL, params={"status": "sent"}, headers=admin.headers)
    assert sent.json() == []
    assert (await client.get(URL, params={"status": "lost"}, headers=admin.headers)).status_code == 422
    missing = await client.get(f"{URL}/999999", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "notification_not_found"
