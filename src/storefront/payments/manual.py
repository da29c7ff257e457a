"""The `manual` provider: the customer pays outside the shop (bank transfer, cash on
delivery) and staff record it (`POST /orders/{id}/status {"status": "paid"}`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storefront.config import PaymentProviderName
from storefront.db import utcnow
from storefront.models import PaymentStatus, RefundStatus
from storefront.payments.provider import PaymentRequest, RefundRequest, StartedPayment, StartedRefund


def reference(order_id: int) -> str:
    """What the customer quotes on a transfer, so staff can match it to the order."""
    return f"ORDER-{order_id}"


class ManualPayments:
    """Answers at once, with nothing to call: the payment `requires_action` of the customer,
    and a refund is what staff give back by hand, recorded as done."""

    def __init__(self, instructions: str, *, days: int, clock: Callable[[], datetime] = utcnow) -> None:
        self.instructions = instructions
        self.days = days
        self.clock = clock

    @property
    def name(self) -> PaymentProviderName:
        return PaymentProviderName.manual

    async def start(self, request: PaymentRequest) -> StartedPayment:
        due_at = self.clock() + timedelta(days=self.days)
        ref = reference(request.order_id)
        text = self.instructions.format(
            order_id=request.order_id,
            reference=ref,
            amount=f"{request.amount:.2f}",
            currency=request.currency,
            due_date=due_at.strftime("%Y-%m-%d"),
        )
        return StartedPayment(
            status=PaymentStatus.requires_action, due_at=due_at, provider_reference=ref, instructions=text
        )

    async def discard(self, reference: str | None) -> None:
        """Nothing was asked of anyone."""

    async def refund(self, request: RefundRequest) -> StartedRefund:
        return StartedRefund(status=RefundStatus.succeeded, provider_reference=None)

    async def close(self) -> None:
        """Nothing is held."""
