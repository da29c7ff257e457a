"""Racing checkouts for the last uses of a code: never one more than its limits, on either database.

Each attempt is what a checkout does in its own transaction: find the code
applicable, then claim a use; a refusal rolls its transaction back.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Discount, DiscountCustomerUse
from storefront.rules import service
from storefront.rules.errors import DiscountRefusal, InvalidDiscount
from tests.factories import Factory

ATTEMPTS = 50


async def _checkout(database: Database, code: str, user_id: int) -> DiscountRefusal | None:
    """None when the use was counted, else why not."""
    try:
        async with database.transaction() as session:
            discount = await service.applicable_discount(
                session, code, subtotal=Decimal(100), user_id=user_id, now=utcnow()
            )
            await service.claim_discount(session, discount, user_id)
    except InvalidDiscount as refused:
        return refused.reason
    return None


async def _counts(database: Database, discount_id: int) -> tuple[int, dict[int, int]]:
    async with database.read_session() as session:
        discount = await session.get(Discount, discount_id)
        rows = await session.execute(
            select(DiscountCustomerUse.user_id, DiscountCustomerUse.uses).where(
                DiscountCustomerUse.discount_id == discount_id
            )
        )
        per_customer: dict[int, int] = dict(rows.all())
    assert discount is not None
    return discount.used, per_customer


async def test_fifty_checkouts_for_five_uses_take_five(database: Database, factory: Factory) -> None:
    customers = [await factory.customer() for _ in range(5)]
    discount = await factory.discount("LIMITED", max_uses=5)

    outcomes = await asyncio.gather(*(_checkout(database, "limited", customers[n % 5].id) for n in range(ATTEMPTS)))

    assert outcomes.count(None) == 5
    assert set(outcomes) - {None} == {DiscountRefusal.used_up}
    used, per_customer = await _counts(database, discount.id)
    assert used == 5
    assert sum(per_customer.values()) == 5  # the refused attempts' counts were rolled back


async def test_fifty_checkouts_of_one_customer_take_their_limit(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    discount = await factory.discount("PERSONAL", max_uses_per_customer=3)

    outcomes = await asyncio.gather(*(_checkout(database, "PERSONAL", customer.id) for _ in range(ATTEMPTS)))

    assert outcomes.count(None) == 3
    assert set(outcomes) - {None} == {DiscountRefusal.used_up_for_customer}
    assert await _counts(database, discount.id) == (3, {customer.id: 3})


async def test_claims_alone_never_pass_the_limits(database: Database, factory: Factory) -> None:
    """Without the check before (whose answer a racing claim makes stale), the
    conditional updates alone hold both limits."""
    customers = [await factory.customer() for _ in range(2)]
    discount = await factory.discount("RAW", max_uses=7, max_uses_per_customer=4)

    async def claim(user_id: int) -> bool:
        try:
            async with database.transaction() as session:
                await service.claim_discount(session, discount, user_id)
        except InvalidDiscount:
            return False
        return True

    outcomes = await asyncio.gather(*(claim(customers[n % 2].id) for n in range(ATTEMPTS)))

    assert outcomes.count(True) == 7
    used, per_customer = await _counts(database, discount.id)
    assert used == 7
    assert sorted(per_customer.values()) == [3, 4]
