"""The payment routes beside an order's: refunds, and the card provider's webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response
from pydantic import Field

from storefront.auth.dependencies import StaffUser
from storefront.context import PaymentsDep, ReadSession, WriteSession
from storefront.contract import api_router
from storefront.idempotency import IdempotencyDep
from storefront.kit.openapi import problems
from storefront.models import Refund
from storefront.orders import payment_events, refunds
from storefront.orders.dependencies import VisibleOrder, WritableOrder
from storefront.payments.errors import InvalidSignatureError, StripeNotConfigured
from storefront.payments.schemas import RefundCreate, RefundRead, WebhookReceipt
from storefront.payments.stripe_payments import InvalidSignature, StripePayments

router = api_router("/orders", tags=["payments"], responses=problems(401))
hooks = api_router("/payments", tags=["payments"])


@router.post(
    "/{order_id}/refunds", status_code=201, response_model=RefundRead, responses=problems(403, 404, 409, 422, 502)
)
async def create_refund(
    body: RefundCreate,
    user: StaffUser,
    order: WritableOrder,
    session: WriteSession,
    payments: PaymentsDep,
    idempotency: IdempotencyDep,
) -> Refund | Response:
    """Give back what is left of an order's payment, or part of it, through its provider. Honours `Idempotency-Key`."""

    async def give_back() -> Refund:
        return await refunds.refund(session, payments, user, order, body)

    return await idempotency.run(user, give_back)


@router.get(
    "/{order_id}/refunds",
    response_model=Annotated[list[RefundRead], Field(max_length=refunds.MAX_LISTED)],
    responses=problems(404, 422),
)
async def list_refunds(order: VisibleOrder, session: ReadSession) -> list[Refund]:
    """An order's refunds, oldest first, at most 500 (its owner, staff and admins)."""
    return await refunds.list_refunds(session, order)


def _stripe(payments: PaymentsDep) -> StripePayments:
    if not isinstance(payments, StripePayments):
        raise StripeNotConfigured()
    return payments


@hooks.post("/stripe/webhook", response_model=WebhookReceipt, responses=problems(400, 404))
async def stripe_webhook(
    request: Request,
    session: WriteSession,
    stripe: Annotated[StripePayments, Depends(_stripe)],
    signature: Annotated[str | None, Header(alias="Stripe-Signature", max_length=2000)] = None,
) -> WebhookReceipt:
    """Stripe's report of a payment or refund (no bearer: the signature is checked). Each event applies once."""
    try:
        event = stripe.verify_event(await request.body(), signature)
    except InvalidSignature as exc:
        raise InvalidSignatureError() from exc
    applied = await payment_events.apply(session, stripe, event)
    return WebhookReceipt(event_id=event.id, applied=applied)
