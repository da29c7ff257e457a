"""The admin UI: admins only, and edits go through the services."""

from __future__ import annotations

import re

from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.config import Settings
from storefront.database import Database
from storefront.models import AuditEntry, Email, EmailStatus, Event, Payment, Product, User
from tests.factories import PASSWORD, Actor, Factory


async def admin_login(client: AsyncClient, actor: Actor) -> AsyncClient:
    response = await client.post(
        "/admin/login", data={"username": actor.user.username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code in (302, 303), response.text
    return client


async def test_only_admins_get_in(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    assert (await client.get("/admin/", follow_redirects=False)).status_code in (302, 303)
    refused = await client.post(
        "/admin/login", data={"username": staff.user.username, "password": PASSWORD}, follow_redirects=False
    )
    assert refused.status_code == 400
    wrong = await client.post("/admin/login", data={"username": "nobody", "password": "x"}, follow_redirects=False)
    assert wrong.status_code == 400
    assert (await client.get("/admin/user/list", follow_redirects=False)).status_code in (302, 303)


async def test_admin_lists_and_searches(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    await factory.product(name="Blue teapot")
    await factory.product(name="Red mug")
    await admin_login(client, admin)

    page = await client.get("/admin/product/list", params={"search": "teapot"})
    assert page.status_code == 200
    assert "Blue teapot" in page.text
    assert "Red mug" not in page.text
    for view in ("user", "order", "email"):
        assert (await client.get(f"/admin/{view}/list")).status_code == 200


async def test_admin_edits_a_product_through_the_service(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin = await factory.admin()
    product = await factory.product(name="Old name", stock=3)
    await admin_login(client, admin)
    form = {"name": "New name", "description": "", "price": "12.50", "category": "kitchen", "sku": "", "stock": "7"}

    response = await client.post(f"/admin/product/edit/{product.id}", data=form, follow_redirects=False)

    assert response.status_code in (302, 303), response.text
    saved = await factory.reload(Product, product.id)
    assert (saved.name, str(saved.price), saved.stock, saved.category) == ("New name", "12.50", 7, "kitchen")
    async with database.read_session() as session:
        types = list(await session.scalars(select(Event.type)))
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.entity == "product")))
    assert types == ["product.updated"]
    # The audit log has the change, by this admin, as the API's would be.
    [entry] = audit
    assert (entry.action, entry.actor_id, entry.entity_id) == ("product.updated", admin.id, product.id)
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["name"], entry.before["stock"]) == ("Old name", 3)
    assert (entry.after["name"], entry.after["price"], entry.after["category"], entry.after["stock"]) == (
        "New name",
        "12.50",
        "kitchen",
        7,
    )
    assert entry.after["description"] is None  # the form's empty description clears it


async def test_admin_refuses_a_bad_product_edit(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    product = await factory.product(name="Keep", stock=3)
    await admin_login(client, admin)
    form = {"name": "Keep", "description": "", "price": "-5", "category": "", "sku": "", "stock": "3"}

    response = await client.post(f"/admin/product/edit/{product.id}", data=form, follow_redirects=False)

    assert response.status_code == 400
    assert (await factory.reload(Product, product.id)).price > 0


async def test_admin_deactivates_a_user_and_their_token_dies(client: AsyncClient, factory: Factory) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    await admin_login(client, admin)
    assert (await client.get("/api/v1/users/me", headers=buyer.headers)).status_code == 200

    response = await client.post(
        f"/admin/user/edit/{buyer.id}",
        data={"full_name": "Gone", "role": "customer"},  # an unticked checkbox sends nothing: inactive
        follow_redirects=False,
    )

    assert response.status_code in (302, 303), response.text
    assert (await factory.reload(User, buyer.id)).is_active is False
    assert (await client.get("/api/v1/users/me", headers=buyer.headers)).status_code == 401


async def test_admin_retries_failed_jobs(client: AsyncClient, factory: Factory, database: Database) -> None:
    admin = await factory.admin()
    async with database.transaction() as session:
        failed = Email(kind="message", to="a@example.com", subject="s", body_text="b", status=EmailStatus.failed,
                       attempts=8, last_error="SMTPServerDisconnected: gone")  # fmt: skip
        sent = Email(
            kind="message", to="b@example.com", subject="s", body_text="b", status=EmailStatus.sent, attempts=1
        )
        session.add_all([failed, sent])
    await admin_login(client, admin)

    response = await client.get("/admin/email/action/retry", params={"pks": f"{failed.id},{sent.id}"})

    assert response.status_code == 303  # back to the list
    async with database.read_session() as session:
        states = dict((await session.execute(select(Email.id, Email.status))).all())
        retried = await session.get(Email, failed.id)
    assert states == {failed.id: "queued", sent.id: "sent"}
    assert retried is not None
    assert retried.attempts == 0


async def test_admin_pages_use_only_local_assets(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    await admin_login(client, admin)
    page = await client.get("/admin/product/list")
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))', page.text)
    assert assets
    assert all(not asset.startswith(("http://", "https://", "//")) or "://test/" in asset for asset in assets)
    for asset in assets:
        assert (await client.get(asset)).status_code == 200


async def test_admin_login_shares_the_failed_login_limit(
    settings: Settings, database: Database, factory: Factory
) -> None:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from storefront.main import create_app

    admin = await factory.admin()
    limited = settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_login_account": "2/hour"})
    app = create_app(limited)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        for _ in range(2):
            wrong = {"username": admin.user.username, "password": "not-the-password"}
            assert (await client.post("/admin/login", data=wrong, follow_redirects=False)).status_code == 400
        right = {"username": admin.user.username, "password": PASSWORD}
        assert (await client.post("/admin/login", data=right, follow_redirects=False)).status_code == 400
        api = await client.post("/api/v1/auth/login", json=right)
        assert api.status_code == 429


async def test_admin_shows_variants_and_the_order_lines_that_sold_them(client: AsyncClient, factory: Factory) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"]}, [{"options": {"Size": "S"}, "sku": "TEE-S"}, {"options": {"Size": "M"}, "sku": "TEE-M"}]
    )
    medium = (await factory.reload(Product, product.id)).variants[1]
    placed = await client.post(
        "/api/v1/orders", json={"items": [{"variant_id": medium.id, "quantity": 1}]}, headers=buyer.headers
    )
    assert placed.status_code == 201
    await admin_login(client, admin)

    variants = await client.get("/admin/product-variant/list", params={"search": "TEE-M"})
    lines = await client.get("/admin/order-item/list")
    details = await client.get(f"/admin/product-variant/details/{medium.id}")
    edit = await client.get(f"/admin/product/edit/{product.id}")

    assert variants.status_code == 200
    assert "TEE-M" in variants.text
    assert "TEE-S" not in variants.text
    assert lines.status_code == 200
    assert "TEE-M" in lines.text
    assert details.status_code == 200
    assert edit.status_code == 200


async def test_admin_refuses_a_price_for_a_product_of_several_variants(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"]}, [{"options": {"Size": "S"}}, {"options": {"Size": "M"}}], name="Tee"
    )
    await admin_login(client, admin)

    form = {"name": "Tee", "description": "", "price": "99.00", "category": "", "stock": "20"}
    response = await client.post(f"/admin/product/edit/{product.id}", data=form, follow_redirects=False)

    assert response.status_code == 400
    assert "several variants" in response.text
    assert (await factory.reload(Product, product.id)).price == product.price


async def test_admin_shows_orders_with_their_payment_and_never_a_client_secret(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    admin, buyer = await factory.admin(), await factory.customer()
    product = await factory.product()
    placed = await client.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers
    )
    order_id = placed.json()["id"]
    async with database.transaction() as session:
        await session.execute(update(Payment).values(client_secret="pi_1_secret_do_not_show"))
        payment_id = await session.scalar(select(Payment.id).where(Payment.order_id == order_id))
    await admin_login(client, admin)

    order = await client.get(f"/admin/order/details/{order_id}")
    payments = await client.get("/admin/payment/list")
    payment = await client.get(f"/admin/payment/details/{payment_id}")

    assert order.status_code == 200
    assert payments.status_code == 200
    assert f"ORDER-{order_id}" in payments.text
    assert payment.status_code == 200
    assert "requires_action" in payment.text
    assert "secret_do_not_show" not in payments.text + payment.text + order.text


async def test_admin_lists_webhook_endpoints_failing_first_without_secrets_and_resends_deliveries(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    from storefront.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

    admin = await factory.admin()
    async with database.transaction() as session:
        healthy = WebhookEndpoint(url="https://fine.example.com/in", events=["*"], active=True,
                                  secret="sealed-secret-do-not-show", consecutive_failures=0)  # fmt: skip
        failing = WebhookEndpoint(url="https://down.example.com/in", events=["*"], active=True,
                                  secret="sealed-secret-do-not-show", consecutive_failures=7)  # fmt: skip
        session.add_all([healthy, failing])
        await session.flush()
        failed = WebhookDelivery(endpoint_id=failing.id, message_id="msg_admin_1", type="order.created",
                                 payload="{}", status=DeliveryStatus.failed, attempts=8)  # fmt: skip
        session.add(failed)
    await admin_login(client, admin)

    endpoints = await client.get("/admin/webhook-endpoint/list")
    details = await client.get(f"/admin/webhook-endpoint/details/{failing.id}")
    assert endpoints.status_code == 200
    assert endpoints.text.index("down.example.com") < endpoints.text.index("fine.example.com")
    assert "do-not-show" not in endpoints.text + details.text

    resent = await client.get("/admin/webhook-delivery/action/retry", params={"pks": str(failed.id)})
    assert resent.status_code == 303
    async with database.read_session() as session:
        delivery = await session.get(WebhookDelivery, failed.id)
    assert delivery is not None
    assert delivery.status == DeliveryStatus.pending
