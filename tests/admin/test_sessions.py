"""Admin sessions end on the server: a copied cookie dies with its session."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.database import Database
from storefront.models import AuthSession, RefreshToken
from tests.admin.test_admin import admin_login
from tests.auth.conftest import bearer, log_in
from tests.factories import PASSWORD, Actor, Factory

COOKIE = "storefront_admin"
PAGE = "/admin/user/list"


async def copied_admin_cookie(client: AsyncClient, actor: Actor) -> str:
    """Log in to /admin and copy the cookie it sets, as a thief with the browser's cookie jar would."""
    await admin_login(client, actor)
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return cookie


async def replay(client: AsyncClient, cookie: str) -> tuple[int, str | None]:
    """An admin page requested with only the copied cookie: its status and `Location`."""
    client.cookies.clear()
    response = await client.get(PAGE, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    return response.status_code, response.headers.get("location")


async def admin_sessions(database: Database, user_id: int) -> list[AuthSession]:
    async with database.read_session() as session:
        query = select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.user_agent.startswith("admin-ui"))
        return list((await session.scalars(query.order_by(AuthSession.id))).all())


async def test_a_copied_cookie_stops_working_after_admin_logout(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    cookie = await copied_admin_cookie(client, admin)
    assert await replay(client, cookie) == (200, None)

    client.cookies.set(COOKIE, cookie, path="/admin")
    logout = await client.get("/admin/logout", follow_redirects=False)

    assert logout.status_code == 302
    assert await replay(client, cookie) == (302, "/admin/login")


async def test_logout_all_from_the_api_ends_the_admin_session(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    cookie = await copied_admin_cookie(client, admin)
    api = await log_in(client, admin.user.username)

    response = await client.post("/api/v1/auth/logout-all", headers=bearer(api["access_token"]))

    assert response.status_code == 204
    assert await replay(client, cookie) == (302, "/admin/login")


async def test_a_password_change_through_the_api_ends_the_admin_session(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    cookie = await copied_admin_cookie(client, admin)
    api = await log_in(client, admin.user.username)
    change = {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-42"}

    response = await client.post("/api/v1/auth/password", json=change, headers=bearer(api["access_token"]))

    assert response.status_code == 204
    assert await replay(client, cookie) == (302, "/admin/login")
    [ended] = await admin_sessions(database, admin.id)
    assert ended.revoked_at is not None
    assert (await client.get("/api/v1/users/me", headers=bearer(api["access_token"]))).status_code == 200


async def test_deactivation_by_another_admin_ends_the_admin_session(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin, other = await factory.admin(), await factory.admin()
    cookie = await copied_admin_cookie(client, admin)

    response = await client.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=other.headers)

    assert response.status_code == 200, response.text
    assert await replay(client, cookie) == (302, "/admin/login")
    [ended] = await admin_sessions(database, admin.id)
    assert ended.revoked_at is not None


async def test_an_admin_session_ends_eight_hours_after_login_however_used(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    cookie = await copied_admin_cookie(client, admin)
    for _ in range(3):
        assert await replay(client, cookie) == (200, None)
    [session] = await admin_sessions(database, admin.id)
    assert session.expires_at - session.created_at == timedelta(hours=8)  # use did not move it

    # Eight hours and a minute later, as far as the database can tell.
    async with database.transaction() as db:
        later = timedelta(hours=8, minutes=1)
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session.id)
            .values(created_at=session.created_at - later, expires_at=session.expires_at - later)
        )

    assert await replay(client, cookie) == (302, "/admin/login")


async def test_an_admin_login_is_a_session_without_tokens(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    await admin_login(client, admin)

    [session] = await admin_sessions(database, admin.id)
    async with database.read_session() as db:
        refresh_tokens = (await db.scalars(select(RefreshToken).where(RefreshToken.session_id == session.id))).all()
    assert session.revoked_at is None
    assert refresh_tokens == []
    assert "access_token" not in (client.cookies.get(COOKIE) or "")


async def test_a_dead_cookie_is_cleared(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    cookie = await copied_admin_cookie(client, admin)
    await client.get("/admin/logout")

    client.cookies.clear()
    response = await client.get(PAGE, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["set-cookie"].startswith(f"{COOKIE}=null;")
    assert "expires=Thu, 01 Jan 1970" in response.headers["set-cookie"]
