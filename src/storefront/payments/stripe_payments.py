"""The `stripe` provider: card payments through Stripe's official SDK, called with its async client.

Every call carries an idempotency key derived from what it is for (the order,
or the refund), so the SDK's own retries and a caller's retry after a timeout
are one payment, one refund, at Stripe. The SDK retries network errors, 409s
and 5xx `STRIPE_MAX_NETWORK_RETRIES` times (0.5 s, 1 s, ... with jitter, at most
5 s apart), each attempt limited to `STRIPE_TIMEOUT_SECONDS`; after that the
call is `PaymentProviderUnavailable` (502). `STRIPE_API_BASE` points the SDK
elsewhere: the test suite's Stripe double, or a proxy.

Stripe's webhook is the source of truth for what became of a payment:
`verify_event()` checks a delivery's signature with the SDK (`payments.webhook`
applies it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe

from storefront.config import PaymentProviderName, Settings
from storefront.db import utcnow
from storefront.log import get_logger
from storefront.models import PaymentStatus, RefundStatus
from storefront.payments.errors import PaymentProviderUnavailable
from storefront.payments.provider import PaymentRequest, RefundRequest, StartedPayment, StartedRefund

log = get_logger("storefront.payments.stripe")

# A Stripe Refund's status, as the refund record keeps it.
REFUND_STATUSES = {
    "succeeded": RefundStatus.succeeded,
    "pending": RefundStatus.pending,
    "requires_action": RefundStatus.pending,
    "failed": RefundStatus.failed,
    "canceled": RefundStatus.failed,
}


@dataclass(frozen=True, slots=True)
class StripeEvent:
    """A verified webhook event: its id (applied once), its type, and the object it is about, as a dict."""

    id: str
    type: str
    object: dict[str, Any]


class InvalidSignature(Exception):
    """The delivery was not signed with `STRIPE_WEBHOOK_SECRET` within the tolerance, or is not an event."""


class StripePayments:
    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        assert settings.stripe_api_key is not None, "Settings checks it for `stripe`"
        assert settings.stripe_webhook_secret is not None, "Settings checks it for `stripe`"
        self._http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self._client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base.rstrip("/")},
            max_network_retries=settings.stripe_max_network_retries,
            http_client=self._http,
        )
        self._webhook_secret = settings.stripe_webhook_secret.get_secret_value()
        self.minutes = settings.card_payment_minutes
        self.clock = clock

    @property
    def name(self) -> PaymentProviderName:
        return PaymentProviderName.stripe

    async def start(self, request: PaymentRequest) -> StartedPayment:
        """A PaymentIntent for the order's total, in minor units, with the order's id in its metadata."""
        params: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "metadata": {"order_id": str(request.order_id)},
            "receipt_email": request.customer_email,
            "automatic_payment_methods": {"enabled": True},
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]  # a plain dict: the SDK's TypedDict is not exported
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            log.warning("stripe_call_failed", call="payment_intents.create", order_id=request.order_id, error=str(exc))
            raise PaymentProviderUnavailable() from exc
        return StartedPayment(
            status=PaymentStatus.requires_payment,
            due_at=self.clock() + timedelta(minutes=self.minutes),
            provider_reference=intent.id,
            client_secret=intent.client_secret,
        )

    async def discard(self, reference: str | None) -> None:
        """Cancel the PaymentIntent of an order that was not placed; its client secret never left the server."""
        if reference is None:
            return
        try:
            await self._client.v1.payment_intents.cancel_async(reference)
        except stripe.StripeError as exc:
            # Harmless if it stays: nobody holds its client secret, so nobody can pay it.
            log.warning("stripe_call_failed", call="payment_intents.cancel", error=str(exc))

    async def refund(self, request: RefundRequest) -> StartedRefund:
        params: dict[str, Any] = {
            "payment_intent": request.payment_reference,
            "amount": request.amount_minor,
            "metadata": {"order_id": str(request.order_id), "reason": request.reason[:500]},
        }
        try:
            refund = await self._client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            log.warning("stripe_call_failed", call="refunds.create", order_id=request.order_id, error=str(exc))
            raise PaymentProviderUnavailable() from exc
        return StartedRefund(
            status=REFUND_STATUSES.get(refund.status or "", RefundStatus.pending), provider_reference=refund.id
        )

    def verify_event(self, payload: bytes, signature: str | None) -> StripeEvent:
        """The event a webhook delivery carries, its signature checked by the SDK (`t=...,v1=...`, 5 minutes)."""
        try:
            event = self._client.construct_event(payload, signature, self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc)) from exc
        body = event.to_dict()
        try:
            return StripeEvent(id=str(body["id"]), type=str(body["type"]), object=dict(body["data"]["object"]))
        except (KeyError, TypeError) as exc:
            raise InvalidSignature("the delivery is not a Stripe event") from exc

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
