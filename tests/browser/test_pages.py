"""Real pages in headless Chromium, with every address but this app's blocked.

Skipped, with the reason, where Debian's chromium is not installed
(`apt-get install chromium`; CI installs it).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.conftest import LiveServer
from tests.factories import PASSWORD, Factory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        await browser.close()


async def offline_page(browser: Browser, server: LiveServer) -> tuple[Page, list[str]]:
    """A page that may reach this app only; what else it asked for is collected."""
    page = await browser.new_page()
    blocked: list[str] = []

    async def only_this_app(route: Route) -> None:
        if route.request.url.startswith(server.url):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_app)
    return page, blocked


async def test_swagger_ui_renders_and_authorize_works(
    browser: Browser, live_server: LiveServer, factory: Factory, tmp_path: Path
) -> None:
    buyer = await factory.customer()
    page, blocked = await offline_page(browser, live_server)

    await page.goto(f"{live_server.url}/docs")
    await page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Storefront" in await page.inner_text(".swagger-ui .info .title")

    await page.click("button.authorize")
    await page.fill("#oauth_username", buyer.user.username)
    await page.fill("#oauth_password", PASSWORD)
    await page.click(".auth-btn-wrapper button.authorize")
    await page.wait_for_selector("button.btn-done", timeout=10_000)
    await page.click("button.btn-done")

    operation = page.locator("#operations-users-users_me_read")
    await operation.locator(".opblock-summary").click()
    await operation.locator("button.try-out__btn").click()
    await operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    await status.wait_for(timeout=10_000)
    assert (await status.inner_text()).strip() == "200"
    assert buyer.user.email in await operation.locator(".live-responses-table").inner_text()

    await page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    assert blocked == []


async def test_redoc_renders(browser: Browser, live_server: LiveServer) -> None:
    page, blocked = await offline_page(browser, live_server)
    await page.goto(f"{live_server.url}/redoc")
    await page.wait_for_selector("text=Place an order", timeout=20_000)
    assert blocked == []


async def test_admin_login_list_and_edit(
    browser: Browser, live_server: LiveServer, factory: Factory, tmp_path: Path
) -> None:
    admin = await factory.admin()
    product = await factory.product(name="Browser teapot", stock=4)
    page, blocked = await offline_page(browser, live_server)

    await page.goto(f"{live_server.url}/admin/")
    await page.fill("input[name=username]", admin.user.username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server.url}/admin/**")

    await page.goto(f"{live_server.url}/admin/product/list")
    assert "Browser teapot" in await page.inner_text("table")
    await page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)

    await page.goto(f"{live_server.url}/admin/product/edit/{product.id}")
    await page.fill("input[name=stock]", "11")
    await page.click("button[type=submit], input[type=submit]")
    await page.wait_for_url(f"{live_server.url}/admin/product/**")
    await page.goto(f"{live_server.url}/admin/product/details/{product.id}")
    assert "11" in await page.inner_text("table")

    assert (tmp_path / "admin.png").stat().st_size > 10_000
    assert blocked == []
