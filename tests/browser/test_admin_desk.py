"""Running the shop from the admin in headless Chromium, with every address but
this app's blocked: log in, read the dashboard, ship an order, refund part of
another, find a customer. Screenshots of the dashboard and an order page go to
`SCREENSHOT_DIR` (default `var/screenshots/`)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page
from sqlalchemy import func, select

from storefront.database import Database
from storefront.db import utcnow
from storefront.models import AuditEntry, Email, Order, OrderStatus
from tests.browser.test_pages import browser, offline_page, pytestmark
from tests.conftest import LiveServer
from tests.factories import PASSWORD, Actor, Factory

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parents[2] / "var" / "screenshots"))
__all__ = ["browser", "pytestmark"]


async def _order(api: httpx.AsyncClient, buyer: Actor, product_id: int, quantity: int) -> int:
    placed = await api.post(
        "/api/v1/orders", json={"items": [{"product_id": product_id, "quantity": quantity}]}, headers=buyer.headers
    )
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


async def _metric(page: Page, name: str) -> str:
    return (await page.inner_text(f"[data-metric={name}]")).strip()


async def test_an_admin_runs_the_shop_from_the_desk(
    browser: Browser, live_server: LiveServer, factory: Factory, database: Database
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin = await factory.admin()
    ada = await factory.customer(full_name="Ada Lovelace")
    await factory.customer(full_name="Grace Hopper")
    teapot = await factory.product(name="Teapot", price=Decimal("24.00"), stock=8)
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        to_ship = await _order(api, ada, teapot.id, 1)
        to_refund = await _order(api, ada, teapot.id, 2)
        await _order(api, ada, teapot.id, 1)  # stays pending
        for order_id in (to_ship, to_refund):
            paid = await api.post(f"/api/v1/orders/{order_id}/status", json={"status": "paid"}, headers=admin.headers)
            assert paid.status_code == 200
    page, blocked = await offline_page(browser, live_server)
    await page.set_viewport_size({"width": 1400, "height": 1000})

    # Log in: the dashboard is the start page, and its numbers are the database's.
    await page.goto(f"{live_server.url}/admin/")
    await page.fill("input[name=username]", admin.user.username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#dashboard")
    async with database.read_session() as session:
        orders = list(await session.scalars(select(Order)))
    today = [o for o in orders if o.created_at.date() == utcnow().date() and o.status != OrderStatus.cancelled]
    assert await _metric(page, "orders-today") == str(len(today)) == "3"
    assert await _metric(page, "revenue-today") == f"{sum(o.total for o in today):.2f}"
    assert await _metric(page, "to-ship") == str(sum(o.status == OrderStatus.paid for o in orders)) == "2"
    assert await _metric(page, "orders-week") == "3"
    assert "Teapot" in await page.inner_text("#low-stock")  # 8 - 4 = 4 left
    await page.screenshot(path=str(SCREENSHOTS / "admin-dashboard.png"), full_page=True)

    # Open an order from the list of those waiting to ship, and ship it.
    await page.click("text=ship them")
    await page.click(f"#orders a:text-is('#{to_ship}')")
    await page.wait_for_selector("#order-page")
    assert "Teapot" in await page.inner_text("#order-lines")
    assert "Ada Lovelace" in await page.inner_text("#order-customer")
    await page.click("[data-action=shipped]")
    await page.wait_for_selector("#order-status:text-is('shipped')")
    assert "order.status_changed" in await page.inner_text("#order-history")
    await page.screenshot(path=str(SCREENSHOTS / "admin-order.png"), full_page=True)
    async with database.read_session() as session:
        shipped_mail = await session.scalar(
            select(func.count()).select_from(Email).where(Email.to == ada.user.email, Email.subject.contains("shipped"))
        )
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.entity_id == to_ship)))
    assert shipped_mail == 1  # the customer's email is queued
    assert [(e.action, e.actor_id, e.after) for e in audit if e.entity == "order"][-1] == (
        "order.updated",
        admin.id,
        {"status": "shipped"},
    )
    async with httpx.AsyncClient(base_url=live_server.url) as api:
        log = await api.get(
            "/api/v1/audit-log", params={"entity": "order", "entity_id": to_ship}, headers=admin.headers
        )
    assert log.json()[0]["after"] == {"status": "shipped"}

    # Refund part of the other paid order.
    await page.goto(f"{live_server.url}/admin/desk/orders/{to_refund}")
    await page.fill("#refund-form input[name=amount]", "10.00")
    await page.fill("#refund-form input[name=reason]", "One cup arrived chipped")
    await page.click("#refund-form button[type=submit]")
    await page.wait_for_selector("#refunded-total:text-is('10.00')")
    assert "One cup arrived chipped" in await page.inner_text("#order-refunds")

    # Find a customer.
    await page.click("text=Customers")
    await page.fill("#customer-search input[name=q]", "love")
    await page.click("#customer-search button[type=submit]")
    await page.wait_for_selector("#customers")
    found = await page.inner_text("#customers")
    assert "Ada Lovelace" in found
    assert "Grace Hopper" not in found
    await page.click("#customers a:text-is('Ada Lovelace')")
    assert await page.inner_text("#customer-orders") == "3"

    assert (SCREENSHOTS / "admin-dashboard.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "admin-order.png").stat().st_size > 10_000
    assert blocked == []
