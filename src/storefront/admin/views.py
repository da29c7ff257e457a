"""Admin views. Edits go through the same services as the API, so they keep its
rules: validation, row locks, events and emails in the same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from sqladmin import Admin, ModelView, action
from sqladmin.authentication import login_required
from sqlalchemy import select, update
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from storefront.admin.auth import AdminAuth, acting_admin
from storefront.admin.csrf import SameOrigin
from storefront.admin.desk import CustomersDesk, OrdersDesk, ProductsDesk, numbers
from storefront.admin.redirects import RelativeRedirects, to_admin_index
from storefront.catalog import service as catalog_service
from storefront.catalog.schemas import ProductUpdate
from storefront.context import AppContext
from storefront.db import utcnow
from storefront.errors import AppError
from storefront.models import (
    Discount,
    Email,
    EmailStatus,
    Order,
    OrderItem,
    Payment,
    Product,
    ProductVariant,
    ShippingMethod,
    TaxRate,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from storefront.users import service as user_service
from storefront.users.schemas import UserAdminUpdate
from storefront.webhooks import service as webhooks

TEMPLATES = Path(__file__).parent / "templates"


class AdminEditRefused(ValueError):
    """Shown on the edit form, like sqladmin's own validation errors."""


def _validated(schema: type[Any], data: dict[str, Any]) -> Any:
    # An HTML form sends "" for a field left empty: for the API that is "none".
    cleaned = {key: None if value == "" else value for key, value in data.items()}
    try:
        return schema.model_validate(cleaned)
    except ValidationError as exc:
        raise AdminEditRefused("; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())) from None


def mount_admin(app: FastAPI, context: AppContext) -> Admin:
    database = context.database

    class UserAdmin(ModelView, model=User):
        name_plural = "Users"
        icon = "fa-solid fa-user"
        can_create = False
        can_delete = False
        column_list = [User.id, User.email, User.username, User.full_name, User.role, User.is_active, User.created_at]
        column_searchable_list = [User.email, User.username]
        column_sortable_list = [User.id, User.email, User.username, User.created_at]
        column_details_exclude_list = [User.password_hash, User.token_version]
        form_columns = [User.full_name, User.role, User.is_active]

        async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
            changes = _validated(UserAdminUpdate, data)
            async with database.transaction() as session:
                session.audit_as(acting_admin(request))
                user = await session.scalar(select(User).where(User.id == int(pk)).with_for_update())
                if user is None:
                    raise AdminEditRefused("no such user")
                return await user_service.update(session, user, changes)

    class ProductAdmin(ModelView, model=Product):
        name_plural = "Products"
        icon = "fa-solid fa-box"
        can_create = False
        can_delete = False
        column_list = [Product.id, Product.name, Product.price, Product.stock, Product.archived]
        column_searchable_list = [Product.name]
        column_sortable_list = [Product.id, Product.name, Product.price, Product.stock]
        # Price and stock are the sole variant's (a product of several refuses them: edit its variants).
        form_columns = [Product.name, Product.description, Product.price, Product.category, Product.stock]

        async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
            changes = _validated(ProductUpdate, data)
            async with database.transaction() as session:
                session.audit_as(acting_admin(request))
                product = await session.scalar(select(Product).where(Product.id == int(pk)).with_for_update())
                if product is None:
                    raise AdminEditRefused("no such product")
                try:
                    return await catalog_service.update(session, product, changes)
                except AppError as exc:
                    raise AdminEditRefused(exc.detail) from None

    class VariantAdmin(ModelView, model=ProductVariant):
        name = "Variant"
        name_plural = "Variants"
        icon = "fa-solid fa-shirt"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            ProductVariant.id,
            ProductVariant.product_id,
            ProductVariant.sku,
            ProductVariant.options,
            ProductVariant.price,
            ProductVariant.stock,
            ProductVariant.archived,
        ]
        column_searchable_list = [ProductVariant.sku]
        column_sortable_list = [
            ProductVariant.id,
            ProductVariant.product_id,
            ProductVariant.price,
            ProductVariant.stock,
        ]
        column_details_exclude_list = [ProductVariant.product]

    class OrderAdmin(ModelView, model=Order):
        name_plural = "Orders"
        icon = "fa-solid fa-receipt"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            Order.id,
            Order.user_id,
            Order.status,
            Order.total,
            Order.currency,
            Order.created_at,
            Order.payment_due_at,
        ]
        column_searchable_list = [Order.status]
        column_sortable_list = [Order.id, Order.total, Order.created_at, Order.payment_due_at]
        column_default_sort = (Order.id, True)
        column_details_exclude_list = [Order.items, Order.payment]

    class PaymentAdmin(ModelView, model=Payment):
        # Recorded through the orders (staff mark an order paid): read here, never edited.
        name_plural = "Payments"
        icon = "fa-solid fa-money-bill"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            Payment.id,
            Payment.order_id,
            Payment.provider,
            Payment.status,
            Payment.amount,
            Payment.currency,
            Payment.provider_reference,
            Payment.refunded_total,
            Payment.updated_at,
        ]
        column_searchable_list = [Payment.provider_reference, Payment.status]
        column_sortable_list = [Payment.id, Payment.order_id, Payment.updated_at]
        column_default_sort = (Payment.id, True)
        column_details_exclude_list = [Payment.order, Payment.client_secret]

    class OrderLineAdmin(ModelView, model=OrderItem):
        # What was sold, as it was sold: the variant's SKU and option values are copies.
        name = "Order line"
        name_plural = "Order lines"
        icon = "fa-solid fa-list"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            OrderItem.id,
            OrderItem.order_id,
            OrderItem.product_id,
            OrderItem.variant_id,
            OrderItem.sku,
            OrderItem.name,
            OrderItem.options,
            OrderItem.quantity,
            OrderItem.unit_price,
            OrderItem.line_total,
        ]
        column_searchable_list = [OrderItem.sku, OrderItem.name]
        column_sortable_list = [OrderItem.id, OrderItem.order_id, OrderItem.variant_id]
        column_default_sort = (OrderItem.id, True)
        column_details_exclude_list = [OrderItem.order]

    class EmailAdmin(ModelView, model=Email):
        name = "Job"
        name_plural = "Jobs (emails)"
        icon = "fa-solid fa-envelope"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [Email.id, Email.kind, Email.to, Email.subject, Email.status, Email.attempts, Email.last_error]
        column_searchable_list = [Email.to, Email.subject, Email.status]
        column_sortable_list = [Email.id, Email.status, Email.attempts]
        column_default_sort = (Email.id, True)

        @action(name="retry", label="Retry", confirmation_message="Queue the selected failed jobs again?")
        async def retry(self, request: Request) -> RedirectResponse:
            ids = _selected(request)
            async with database.transaction() as session:
                await session.execute(
                    update(Email)
                    .where(Email.id.in_(ids), Email.status == EmailStatus.failed)
                    .values(status=EmailStatus.queued, attempts=0, next_attempt_at=utcnow())
                )
            context.jobs.notify()
            return _back_to_list(request, self.identity)

    class DiscountAdmin(ModelView, model=Discount):
        # Changed through the API (`/discounts`), whose rules (one code ignoring case, percent <= 100) apply.
        name_plural = "Discounts"
        icon = "fa-solid fa-tags"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [Discount.id, Discount.code, Discount.kind, Discount.value, Discount.used, Discount.max_uses,
                       Discount.starts_at, Discount.ends_at, Discount.active]  # fmt: skip
        column_searchable_list = [Discount.code]
        column_sortable_list = [Discount.id, Discount.code, Discount.used]

    class ShippingMethodAdmin(ModelView, model=ShippingMethod):
        name = "Shipping method"
        name_plural = "Shipping methods"
        icon = "fa-solid fa-truck"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [ShippingMethod.id, ShippingMethod.code, ShippingMethod.name, ShippingMethod.price,
                       ShippingMethod.free_over, ShippingMethod.countries, ShippingMethod.active]  # fmt: skip
        column_searchable_list = [ShippingMethod.code, ShippingMethod.name]

    class TaxRateAdmin(ModelView, model=TaxRate):
        name = "Tax rate"
        name_plural = "Tax rates"
        icon = "fa-solid fa-percent"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [TaxRate.id, TaxRate.country, TaxRate.rate]
        column_searchable_list = [TaxRate.country]

    class WebhookEndpointAdmin(ModelView, model=WebhookEndpoint):
        # Subscribed through the API, which shows the secret once; the failing ones first here.
        name = "Webhook endpoint"
        name_plural = "Webhook endpoints"
        icon = "fa-solid fa-satellite-dish"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.events,
            WebhookEndpoint.active,
            WebhookEndpoint.consecutive_failures,
            WebhookEndpoint.disabled_reason,
        ]
        column_searchable_list = [WebhookEndpoint.url]
        column_sortable_list = [WebhookEndpoint.id, WebhookEndpoint.consecutive_failures]
        column_default_sort = (WebhookEndpoint.consecutive_failures, True)
        column_details_exclude_list = [WebhookEndpoint.secret, WebhookEndpoint.previous_secret]

    class WebhookDeliveryAdmin(ModelView, model=WebhookDelivery):
        name = "Webhook delivery"
        name_plural = "Webhook deliveries"
        icon = "fa-solid fa-paper-plane"
        can_create = False
        can_edit = False
        can_delete = False
        column_list = [
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.type,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.last_status_code,
            WebhookDelivery.last_error,
            WebhookDelivery.created_at,
        ]
        column_searchable_list = [WebhookDelivery.status, WebhookDelivery.type, WebhookDelivery.message_id]
        column_sortable_list = [WebhookDelivery.id, WebhookDelivery.status, WebhookDelivery.attempts]
        column_default_sort = (WebhookDelivery.id, True)
        column_details_exclude_list = [WebhookDelivery.lease_owner]

        @action(name="retry", label="Send again", confirmation_message="Send the selected deliveries again?")
        async def retry(self, request: Request) -> RedirectResponse:
            """Through the API's own rule: `webhooks.service.retry` (not for a disabled endpoint)."""
            ids = _selected(request)
            async with database.transaction() as uow:
                uow.audit_as(acting_admin(request))
                rows = await uow.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.id.in_(ids), WebhookEndpoint.active)
                )
                for delivery, endpoint in rows.all():
                    await webhooks.retry(uow, endpoint, delivery)
            return _back_to_list(request, self.identity)

    admin = ShopAdmin(
        app,
        session_maker=database.deferred_session,
        authentication_backend=AdminAuth(database, context.rate_limiter),
        title="Storefront admin",
        base_url="/admin",
        templates_dir=str(TEMPLATES),
        middlewares=[Middleware(RelativeRedirects), Middleware(SameOrigin)],
    )
    admin.context = context
    app.add_route("/admin", to_admin_index, include_in_schema=False)
    views = (UserAdmin, ProductAdmin, VariantAdmin, OrderAdmin, OrderLineAdmin, PaymentAdmin, EmailAdmin,
             DiscountAdmin, ShippingMethodAdmin, TaxRateAdmin, WebhookEndpointAdmin, WebhookDeliveryAdmin)  # fmt: skip
    desks = ((OrdersDesk, "desk-orders"), (CustomersDesk, "desk-customers"), (ProductsDesk, "desk-products"))
    for desk, start in desks:
        desk.context = context
        admin.add_base_view(desk)
        desk.identity = start  # the menu's link: the desk's first page
    for view in views:
        admin.add_view(view)
    return admin


def _selected(request: Request) -> list[int]:
    """The rows an action was asked for (`?pks=1,2,3`)."""
    return [int(pk) for pk in request.query_params.get("pks", "").split(",") if pk.isdigit()]


def _back_to_list(request: Request, identity: str) -> RedirectResponse:
    return RedirectResponse(request.url_for("admin:list", identity=identity), status_code=303)


class ShopAdmin(Admin):
    """sqladmin, with the dashboard as its start page."""

    context: AppContext

    @login_required
    async def index(self, request: Request) -> Response:
        async with self.context.database.read_session() as session:
            shown = await numbers(session, self.context.settings.stock_low_threshold)
        data = {
            "numbers": shown,
            "currency": self.context.settings.currency,
            "threshold": self.context.settings.stock_low_threshold,
        }
        return await self.templates.TemplateResponse(request, "desk/dashboard.html", data)
