"""The shop desk: the admin's dashboard, orders with their actions, and customers.

Every action runs through the same service as the API (`orders.service`,
`orders.refunds`, `users.service`), in a unit of work acting for the admin, so
the same rules refuse the same things, the same events, emails and webhook
deliveries follow, and the audit log records it. Forms carry the session's
CSRF token (`admin.csrf`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqladmin import BaseView, expose
from sqlalchemy import Date, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from storefront.admin import csrf
from storefront.admin.auth import acting_admin
from storefront.catalog import repository as catalog_repository
from storefront.catalog import service as catalog_service
from storefront.catalog import variants
from storefront.catalog.errors import ProductNotFound
from storefront.catalog.schemas import StockAdjustment
from storefront.context import AppContext
from storefront.db import utcnow
from storefront.errors import AppError
from storefront.models import (
    DeliveryStatus,
    Email,
    EmailStatus,
    Event,
    Order,
    OrderStatus,
    Product,
    ProductVariant,
    Refund,
    Role,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from storefront.orders import refunds
from storefront.orders import repository as orders_repository
from storefront.orders import service as orders_service
from storefront.payments.schemas import RefundCreate
from storefront.uow import UnitOfWork
from storefront.users import service as users_service
from storefront.users.errors import UserNotFound
from storefront.users.schemas import UserAdminUpdate

LISTED = 100  # rows on a desk page
NOT_SALES = (OrderStatus.cancelled,)
# The actions an order's state allows, as the order rules define them.
ACTIONS = {
    OrderStatus.pending: [("paid", "Mark paid"), ("cancelled", "Cancel")],
    OrderStatus.paid: [("shipped", "Ship"), ("cancelled", "Cancel")],
    OrderStatus.shipped: [("delivered", "Mark delivered")],
}
ORDER_EVENTS = ("order.", "payment.", "refund.")


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class Numbers:
    """What the dashboard shows. Orders and revenue count every order placed in the
    period except cancelled ones; revenue is their total."""

    today: Day
    week: list[Day]  # the last 7 days, oldest first, today included
    to_ship: int  # paid, not shipped yet
    low_stock: list[tuple[ProductVariant, Product]]
    failed_emails: int
    failed_deliveries: int
    failing_endpoints: list[WebhookEndpoint]

    @property
    def week_orders(self) -> int:
        return sum(day.orders for day in self.week)

    @property
    def week_revenue(self) -> Decimal:
        return sum((day.revenue for day in self.week), Decimal("0.00"))

    @property
    def busiest(self) -> int:
        return max([day.orders for day in self.week] + [1])


def _day_of(session: UnitOfWork) -> Any:
    column = Order.created_at
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


async def numbers(session: UnitOfWork, low_stock_threshold: int, now: datetime | None = None) -> Numbers:
    now = now or utcnow()
    first = datetime.combine(now.date() - timedelta(days=6), datetime.min.time(), tzinfo=now.tzinfo)
    day = _day_of(session)
    rows = (
        await session.execute(
            select(day, func.count(), func.coalesce(func.sum(Order.total), 0))
            .where(Order.created_at >= first, Order.status.not_in(NOT_SALES))
            .group_by(day)
        )
    ).all()
    found = {
        (value if isinstance(value, date) else date.fromisoformat(str(value))): (n, total) for value, n, total in rows
    }
    week = [
        Day(first.date() + timedelta(days=n), *_counted(found.get(first.date() + timedelta(days=n)))) for n in range(7)
    ]
    to_ship = await session.scalar(select(func.count()).select_from(Order).where(Order.status == OrderStatus.paid))
    low = (
        await session.execute(
            select(ProductVariant, Product)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(
                ProductVariant.stock <= low_stock_threshold,
                ProductVariant.archived.is_(False),
                Product.archived.is_(False),
            )
            .order_by(ProductVariant.stock, ProductVariant.id)
            .limit(10)
        )
    ).all()
    failed_emails = await session.scalar(
        select(func.count()).select_from(Email).where(Email.status == EmailStatus.failed)
    )
    failed_deliveries = await session.scalar(
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.failed)
    )
    failing = await session.scalars(
        select(WebhookEndpoint)
        .where(or_(WebhookEndpoint.consecutive_failures > 0, WebhookEndpoint.active.is_(False)))
        .order_by(WebhookEndpoint.consecutive_failures.desc(), WebhookEndpoint.id)
        .limit(10)
    )
    return Numbers(
        today=week[-1],
        week=week,
        to_ship=int(to_ship or 0),
        low_stock=[(variant, product) for variant, product in low],
        failed_emails=int(failed_emails or 0),
        failed_deliveries=int(failed_deliveries or 0),
        failing_endpoints=list(failing),
    )


def _counted(found: tuple[int, Any] | None) -> tuple[int, Decimal]:
    if found is None:
        return 0, Decimal("0.00")
    return int(found[0]), Decimal(found[1]).quantize(Decimal("0.01"))


# A desk form's change: made in a unit of work acting for the admin, from the form's fields.
Change = Callable[[UnitOfWork, User, FormData], Awaitable[None]]


class _Desk(BaseView):
    context: AppContext  # set by `mount_admin`
    page_route: str  # the page of one thing (an order, a customer, a product), and its path parameter
    page_param: str

    async def _page(self, request: Request, ident: int, *, error: str | None = None) -> Response:
        raise NotImplementedError

    async def _act(self, request: Request, change: Change) -> Response:
        """One form post about the thing the path names: its CSRF token checked, `change` made
        through the services in a unit of work audited as the admin, then back to the thing's
        page (409 with the refusal)."""
        ident = int(request.path_params[self.page_param])
        form = await request.form()
        if (refused := csrf.refusal(request, form.get("csrf"))) is not None:
            return refused
        try:
            async with self.context.database.transaction() as uow:
                await change(uow, await self._acting(uow, request), form)
        except (AppError, ValueError) as exc:
            return await self._page(request, ident, error=_reason(exc))
        return RedirectResponse(request.url_for(self.page_route, **{self.page_param: ident}), status_code=303)

    async def _acting(self, uow: UnitOfWork, request: Request) -> User:
        """The admin this request acts for, and the unit of work audited as theirs."""
        admin_id = acting_admin(request)
        uow.audit_as(admin_id)
        admin = await uow.get(User, admin_id)
        if admin is None:
            raise PermissionError("no admin")
        return admin


class OrdersDesk(_Desk):
    """Orders with their customer, lines, payment, refunds and history, and the actions their state allows."""

    name = "Orders desk"
    icon = "fa-solid fa-cart-shopping"
    page_route, page_param = "admin:view-desk-order", "order_id"

    @expose("/desk/orders", identity="desk-orders")
    async def orders(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        since = _date(request.query_params.get("since"))
        until = _date(request.query_params.get("until"))
        query = select(Order, User.email).join(User, User.id == Order.user_id).options(selectinload(Order.payment))
        if status in {s.value for s in OrderStatus}:
            query = query.where(Order.status == status)
        if since is not None:
            query = query.where(Order.created_at >= datetime.combine(since, datetime.min.time(), tzinfo=UTC))
        if until is not None:
            query = query.where(
                Order.created_at < datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
            )
        async with self.context.database.read_session() as session:
            rows = (await session.execute(query.order_by(Order.id.desc()).limit(LISTED))).all()
        return await self.templates.TemplateResponse(
            request,
            "desk/orders.html",
            {"rows": rows, "status": status, "since": since, "until": until, "statuses": list(OrderStatus)},
        )

    @expose("/desk/orders/{order_id:int}", identity="desk-order")
    async def order(self, request: Request) -> Response:
        return await self._page(request, int(request.path_params["order_id"]))

    async def _page(self, request: Request, order_id: int, *, error: str | None = None) -> Response:
        async with self.context.database.read_session() as session:
            order = await session.scalar(
                select(Order)
                .where(Order.id == order_id)
                .options(selectinload(Order.items), selectinload(Order.payment))
            )
            if order is None:
                return Response("No such order.", status_code=404)
            customer = await session.get(User, order.user_id)
            refunded = list(
                await session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))
            )
            events = [
                event
                for event in await session.scalars(
                    select(Event)
                    .where(Event.user_id == order.user_id, or_(*(Event.type.startswith(p) for p in ORDER_EVENTS)))
                    .order_by(Event.id)
                    .limit(1000)
                )
                if event.data.get("order_id") == order.id
            ]
        context = {
            "order": order,
            "customer": customer,
            "refunds": refunded,
            "events": events,
            "actions": ACTIONS.get(order.status, []),
            "refundable": order.payment is not None and order.payment.amount > order.payment.refunded_total,
            "csrf": csrf.token(request),
            "error": error,
        }
        status = 200 if error is None else 409
        return await self.templates.TemplateResponse(request, "desk/order.html", context, status_code=status)

    @expose("/desk/orders/{order_id:int}/status", methods=["POST"], identity="desk-order-status")
    async def order_status(self, request: Request) -> Response:
        """`POST /orders/{id}/status`, from a form."""
        order_id = int(request.path_params["order_id"])

        async def change(uow: UnitOfWork, admin: User, form: FormData) -> None:
            order = await orders_repository.get_locked(uow, order_id)
            await orders_service.change_status(uow, admin, order, OrderStatus(str(form.get("status", ""))))

        return await self._act(request, change)

    @expose("/desk/orders/{order_id:int}/refund", methods=["POST"], identity="desk-order-refund")
    async def order_refund(self, request: Request) -> Response:
        """`POST /orders/{id}/refunds`, from a form."""
        order_id = int(request.path_params["order_id"])

        async def change(uow: UnitOfWork, admin: User, form: FormData) -> None:
            amount, restock = str(form.get("amount") or "") or None, form.get("restock") == "on"
            body = RefundCreate.model_validate(
                {"amount": amount, "reason": str(form.get("reason", "")), "restock": restock}
            )
            order = await orders_repository.get_locked(uow, order_id)
            await refunds.refund(uow, self.context.payments, admin, order, body)

        return await self._act(request, change)


class CustomersDesk(_Desk):
    """Customers: search, their orders and what they spent, deactivate and reactivate."""

    name = "Customers"
    icon = "fa-solid fa-users"
    page_route, page_param = "admin:view-desk-customer", "user_id"

    @expose("/desk/customers", identity="desk-customers")
    async def customers(self, request: Request) -> Response:
        q = _search_text(request)
        placed = and_(Order.user_id == User.id, Order.status.not_in(NOT_SALES))
        count = select(func.count(Order.id)).where(placed).correlate(User).scalar_subquery()
        spent = select(func.coalesce(func.sum(Order.total), 0)).where(placed).correlate(User).scalar_subquery()
        query = select(User, count.label("orders"), spent.label("spent")).where(User.role == Role.customer)
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(
                or_(
                    func.lower(User.email).like(pattern),
                    func.lower(User.username).like(pattern),
                    func.lower(func.coalesce(User.full_name, "")).like(pattern),
                )
            )
        async with self.context.database.read_session() as session:
            rows = (await session.execute(query.order_by(User.id.desc()).limit(LISTED))).all()
        return await self.templates.TemplateResponse(request, "desk/customers.html", {"rows": rows, "q": q})

    @expose("/desk/customers/{user_id:int}", identity="desk-customer")
    async def customer(self, request: Request) -> Response:
        return await self._page(request, int(request.path_params["user_id"]))

    async def _page(self, request: Request, user_id: int, *, error: str | None = None) -> Response:
        async with self.context.database.read_session() as session:
            user = await session.get(User, user_id)
            if user is None:
                return Response("No such customer.", status_code=404)
            orders = list(
                await session.scalars(
                    select(Order)
                    .where(Order.user_id == user_id)
                    .options(selectinload(Order.payment))
                    .order_by(Order.id.desc())
                    .limit(LISTED)
                )
            )
        sales = [order for order in orders if order.status not in NOT_SALES]
        context = {
            "user": user,
            "orders": orders,
            "spent": sum((order.total for order in sales), Decimal("0.00")),
            "refunded": sum((order.refunded_total for order in orders), Decimal("0.00")),
            "csrf": csrf.token(request),
            "error": error,
        }
        return await self.templates.TemplateResponse(
            request, "desk/customer.html", context, status_code=200 if error is None else 409
        )

    @expose("/desk/customers/{user_id:int}/active", methods=["POST"], identity="desk-customer-active")
    async def customer_active(self, request: Request) -> Response:
        """`PATCH /users/{id}` with `is_active`, from a form."""
        user_id = int(request.path_params["user_id"])

        async def change(uow: UnitOfWork, _: User, form: FormData) -> None:
            user = await uow.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                raise UserNotFound()
            await users_service.update(uow, user, UserAdminUpdate(is_active=form.get("active") == "true"))

        return await self._act(request, change)


class ProductsDesk(_Desk):
    """Products with their options, variants and image; stock adjusted per variant; archiving."""

    name = "Products desk"
    icon = "fa-solid fa-boxes-stacked"
    page_route, page_param = "admin:view-desk-product", "product_id"

    @expose("/desk/products", identity="desk-products")
    async def products(self, request: Request) -> Response:
        q = _search_text(request)
        query = select(Product).options(*catalog_repository.WITH_PARTS)
        if q:
            pattern = f"%{q.lower()}%"
            skus = select(ProductVariant.product_id).where(func.lower(ProductVariant.sku).like(pattern))
            query = query.where(or_(func.lower(Product.name).like(pattern), Product.id.in_(skus)))
        async with self.context.database.read_session() as session:
            found = list(await session.scalars(query.order_by(Product.id.desc()).limit(LISTED)))
        return await self.templates.TemplateResponse(request, "desk/products.html", {"products": found, "q": q})

    @expose("/desk/products/{product_id:int}", identity="desk-product")
    async def product(self, request: Request) -> Response:
        return await self._page(request, int(request.path_params["product_id"]))

    async def _page(self, request: Request, product_id: int, *, error: str | None = None) -> Response:
        async with self.context.database.read_session() as session:
            product = await catalog_repository.get(session, product_id)
        if product is None:
            return Response("No such product.", status_code=404)
        context = {"product": product, "csrf": csrf.token(request), "error": error}
        return await self.templates.TemplateResponse(
            request, "desk/product.html", context, status_code=200 if error is None else 409
        )

    @expose("/desk/products/{product_id:int}/stock", methods=["POST"], identity="desk-product-stock")
    async def product_stock(self, request: Request) -> Response:
        """`POST /products/{id}/variants/{variant_id}/stock`, from a form."""
        product_id = int(request.path_params["product_id"])

        async def change(uow: UnitOfWork, _: User, form: FormData) -> None:
            body = StockAdjustment.model_validate({"delta": _integer(form.get("delta"))})
            product = await self._locked(uow, product_id)
            variant = variants.find(product, _integer(form.get("variant_id")), None)
            threshold = self.context.settings.stock_low_threshold
            await variants.adjust_stock(uow, product, variant, body.delta, stock_low_threshold=threshold)

        return await self._act(request, change)

    @expose("/desk/products/{product_id:int}/archive", methods=["POST"], identity="desk-product-archive")
    async def product_archive(self, request: Request) -> Response:
        """`DELETE /products/{id}`, from a form."""
        product_id = int(request.path_params["product_id"])

        async def change(uow: UnitOfWork, _: User, form: FormData) -> None:
            await catalog_service.archive(uow, await self._locked(uow, product_id))

        return await self._act(request, change)

    async def _locked(self, uow: UnitOfWork, product_id: int) -> Product:
        """The product, its row held until the transaction ends (as `WritableProduct`)."""
        product = await uow.scalar(select(Product).where(Product.id == product_id).with_for_update())
        if product is None:
            raise ProductNotFound()
        return await catalog_repository.with_parts(uow, product)


def _integer(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ValueError("a whole number is needed") from None


def _search_text(request: Request) -> str:
    """A search box's text (`?q=`), trimmed and bounded."""
    return (request.query_params.get("q") or "").strip()[:100]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, AppError):
        return exc.detail
    return str(exc).splitlines()[0][:300]
