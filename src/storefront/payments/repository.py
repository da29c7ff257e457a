"""Payment queries: finding a payment by the provider's id for it, counting refunds atomically,
and recording each provider event once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import utcnow
from storefront.models import Payment, PaymentStatus, ProviderEvent

REFUNDABLE = (PaymentStatus.succeeded, PaymentStatus.partially_refunded)


async def order_id_for(session: AsyncSession, provider: str, reference: str) -> int | None:
    """The order whose payment the provider knows as `reference` (a PaymentIntent's id)."""
    query = select(Payment.order_id).where(Payment.provider == provider, Payment.provider_reference == reference)
    return (await session.scalars(query)).first()


async def count_refund(session: AsyncSession, payment_id: int, amount: Decimal) -> Decimal | None:
    """Add `amount` to what the payment has had refunded, if it was taken and the sum stays within
    it: the new total, or None when it would not.

    One conditional UPDATE: of two refunds racing for the same remainder, the
    second waits for the first's row (PostgreSQL) or the write lock (SQLite),
    then finds the condition false against the committed total.
    """
    result = await session.execute(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status.in_(REFUNDABLE),
            Payment.refunded_total + amount <= Payment.amount,
        )
        .values(refunded_total=Payment.refunded_total + amount, updated_at=utcnow())
        .returning(Payment.refunded_total)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def first_delivery(session: AsyncSession, provider: str, event_id: str, type_: str) -> bool:
    """Record that the provider's event `event_id` is being applied: False if it was before.

    `INSERT ... ON CONFLICT DO NOTHING` on the unique (provider, event id): a
    concurrent delivery of the same event waits for this transaction and, once
    it commits, inserts nothing; if it rolls back, the other applies the event.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ProviderEvent)
        .values(provider=provider, event_id=event_id, type=type_, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=[ProviderEvent.provider, ProviderEvent.event_id])
        .returning(ProviderEvent.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
