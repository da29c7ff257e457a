from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from storefront.auth.dependencies import CurrentUser, StaffUser
from storefront.context import DatabaseDep, PaymentsDep, ReadSession, WriteSession
from storefront.contract import api_router
from storefront.idempotency import IdempotencyDep
from storefront.kit.etag import require_match, unless_modified
from storefront.kit.export import ExportFormat
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, Sort, sort_dependency, with_page_headers
from storefront.kit.schemas import MAX_ID
from storefront.models import Order, OrderStatus, Payment
from storefront.orders import export, service
from storefront.orders.dependencies import VisibleOrder, WritableOrder
from storefront.orders.schemas import OrderCreate, OrderRead, OrderStatusChange
from storefront.payments.schemas import PaymentRead

router = api_router("/orders", tags=["orders"], responses=problems(401))

OrderSort = Annotated[Sort, Depends(sort_dependency(list(service.SORTABLE), "-created_at"))]


def _etag(order: Order) -> str:
    return service.etag(order)


@router.post("", status_code=201, response_model=OrderRead, responses=problems(409, 422, 502))
async def place_order(
    body: OrderCreate,
    user: CurrentUser,
    session: WriteSession,
    payments: PaymentsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> Order | Response:
    """Place an order and start its payment; stock is taken for all lines or none. Honours `Idempotency-Key`."""

    async def place() -> Order:
        order = await service.place(session, user, body, payment_provider=payments)
        response.headers["ETag"] = _etag(order)
        return order

    return await idempotency.run(user, place, location=lambda order: f"/api/v1/orders/{order.id}")


async def _filters(
    status: OrderStatus | None = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Staff and admins only.")] = None,
) -> service.OrderFilters:
    return service.OrderFilters(status=status, user_id=user_id)


OrderFiltersDep = Annotated[service.OrderFilters, Depends(_filters)]


@router.get("", response_model=list[OrderRead], responses=problems(422))
async def list_orders(
    user: CurrentUser,
    session: ReadSession,
    filters: OrderFiltersDep,
    page: PageDep,
    sort: OrderSort,
    request: Request,
    response: Response,
) -> list[Order]:
    """Orders: a customer's own; staff and admins see all and may filter by user."""
    return with_page_headers(request, response, await service.list_orders(session, user, filters, page, sort))


@router.get("/export", responses={200: {"content": {"text/csv": {}, "application/jsonl": {}}}, **problems(403, 422)})
async def export_orders(user: StaffUser, database: DatabaseDep, format: ExportFormat = "csv") -> StreamingResponse:
    """Every order as CSV or JSON Lines, streamed from the database row by row."""
    return export.orders_response(database, user, format)


@router.get("/{order_id}", response_model=OrderRead, responses=problems(404, 422))
async def read_order(order: VisibleOrder, request: Request, response: Response) -> Order | Response:
    """One order: its owner, staff and admins may see it."""
    return unless_modified(request, response, _etag(order)) or order


@router.get("/{order_id}/payment", response_model=PaymentRead, responses=problems(404, 422))
async def read_order_payment(order: VisibleOrder) -> Payment:
    """An order's payment: provider, status, amount and what was refunded (its owner, staff and admins)."""
    return service.payment_of(order)


@router.post("/{order_id}/cancel", response_model=OrderRead, responses=problems(404, 409, 412, 422))
async def cancel_order(
    user: CurrentUser, order: WritableOrder, session: WriteSession, request: Request, response: Response
) -> Order:
    """Cancel an order and put its stock back (owner while pending; staff while pending or paid)."""
    require_match(request, _etag(order))
    order = await service.cancel(session, user, order)
    response.headers["ETag"] = _etag(order)
    return order


@router.post("/{order_id}/status", response_model=OrderRead, responses=problems(403, 404, 409, 412, 422))
async def change_order_status(
    body: OrderStatusChange,
    user: StaffUser,
    order: WritableOrder,
    session: WriteSession,
    request: Request,
    response: Response,
) -> Order:
    """Move an order to its next status (pending → paid → shipped → delivered) or cancel it."""
    require_match(request, _etag(order))
    order = await service.change_status(session, user, order, body.status)
    response.headers["ETag"] = _etag(order)
    return order
