"""What placing or changing an order tells the world: events and emails,
recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence

from storefront.catalog import notify as catalog_notify
from storefront.catalog.notify import Lowered
from storefront.models import Audience, Order, Payment, Refund, User
from storefront.orders.schemas import OrderRead
from storefront.uow import UnitOfWork


def _summary(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "user_id": order.user_id,
        "status": str(order.status),
        "total": f"{order.total:.2f}",
        "currency": order.currency,
    }


def _email_context(user: User, order: Order) -> dict[str, object]:
    due = order.payment_due_at
    return {
        "user": {"username": user.username, "full_name": user.full_name},
        "order": OrderRead.model_validate(order).model_dump(mode="json"),
        "payment_due": due.strftime("%Y-%m-%d %H:%M UTC") if due is not None else None,
    }


async def order_placed(uow: UnitOfWork, owner: User, order: Order) -> None:
    await uow.record_event("order.created", _summary(order), audience=Audience.owner, user_id=order.user_id)
    await uow.queue_email("order_confirmation", to=owner.email, context=_email_context(owner, order))


async def status_changed(uow: UnitOfWork, order: Order, previous: str, *, email: str | None = "order_status") -> None:
    """`order.status_changed`, and the `email` template to the customer (`order_expired` for the
    payment deadline; None for none)."""
    data = _summary(order) | {"previous_status": previous}
    await uow.record_event("order.status_changed", data, audience=Audience.owner, user_id=order.user_id)
    if email is not None:
        await _email_owner(uow, order, email)


async def payment_event(uow: UnitOfWork, type_: str, order: Order, payment: Payment, *, email: str | None) -> None:
    """`payment.succeeded` or `payment.failed`, and the `email` template (a receipt) to the customer."""
    data = {
        "order_id": order.id,
        "user_id": order.user_id,
        "payment_id": payment.id,
        "amount": f"{payment.amount:.2f}",
        "currency": payment.currency,
        "status": str(payment.status),
    }
    await uow.record_event(type_, data, audience=Audience.owner, user_id=order.user_id)
    if email is not None:
        await _email_owner(uow, order, email)


async def refund_event(uow: UnitOfWork, type_: str, order: Order, refund: Refund) -> None:
    """`refund.created`, `refund.succeeded` or `refund.failed`; the customer is emailed when the
    money is on its way back."""
    data = {
        "order_id": order.id,
        "user_id": order.user_id,
        "refund_id": refund.id,
        "amount": f"{refund.amount:.2f}",
        "currency": order.currency,
        "status": str(refund.status),
    }
    await uow.record_event(type_, data, audience=Audience.owner, user_id=order.user_id)
    if type_ == "refund.succeeded":
        await _email_owner(uow, order, "refund_issued", refund={"amount": data["amount"], "reason": refund.reason})


async def _email_owner(uow: UnitOfWork, order: Order, email: str, **extra: object) -> None:
    owner = await uow.get(User, order.user_id)
    if owner is not None and owner.is_active:
        await uow.queue_email(email, to=owner.email, context=_email_context(owner, order) | extra)


async def stock_taken(uow: UnitOfWork, left: Sequence[Lowered], threshold: int) -> None:
    """The products' cached reads go; `stock.low` for each variant that just fell to `threshold`."""
    uow.evict(*(change.product_id for change in left))
    await catalog_notify.stock_lowered(uow, left, threshold)
