"""What the checkout asks of the rules, called directly: which discount applies,
counting and giving back its uses, where a method ships, a country's tax rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from storefront import pricing
from storefront.database import Database
from storefront.models import Discount, DiscountCustomerUse
from storefront.pricing import DiscountKind, Line
from storefront.rules import service
from storefront.rules.errors import DiscountRefusal, InvalidDiscount, ShippingUnavailable
from tests.factories import Factory

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _applicable(
    database: Database, code: str, *, subtotal: str = "100.00", user_id: int | None = None, now: datetime = NOW
) -> Discount:
    async with database.read_session() as session:
        return await service.applicable_discount(session, code, subtotal=Decimal(subtotal), user_id=user_id, now=now)


async def _refusal(database: Database, code: str, **kwargs: object) -> DiscountRefusal:
    with pytest.raises(InvalidDiscount) as refused:
        await _applicable(database, code, **kwargs)  # type: ignore[arg-type]
    assert refused.value.status_code == 422
    assert refused.value.code == "invalid_discount"
    assert refused.value.extra == {"reason": refused.value.reason.value}
    return refused.value.reason


async def _uses(database: Database, discount_id: int, user_id: int) -> tuple[int, int]:
    """The discount's `used`, and the customer's uses of it."""
    async with database.read_session() as session:
        discount = await session.get(Discount, discount_id)
        mine = await session.get(DiscountCustomerUse, (discount_id, user_id))
    assert discount is not None
    return discount.used, mine.uses if mine is not None else 0


async def test_a_code_applies_ignoring_case(database: Database, factory: Factory) -> None:
    made = await factory.discount("Welcome10")

    found = await _applicable(database, " welcome10 ")

    assert found.id == made.id


async def test_the_period_includes_its_start_and_excludes_its_end(database: Database, factory: Factory) -> None:
    await factory.discount("WINDOW", starts_at=NOW, ends_at=NOW + HOUR)

    assert (await _applicable(database, "WINDOW", now=NOW)).code == "WINDOW"
    assert await _refusal(database, "WINDOW", now=NOW - timedelta(microseconds=1)) is DiscountRefusal.not_started
    assert await _refusal(database, "WINDOW", now=NOW + HOUR) is DiscountRefusal.expired


async def test_each_refusal_names_its_reason(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    await factory.discount("OFF", active=False)
    await factory.discount("LATER", starts_at=NOW + HOUR)
    await factory.discount("OVER", ends_at=NOW - HOUR)
    await factory.discount("GONE", max_uses=3, used=3)
    once = await factory.discount("ONCE", max_uses_per_customer=1)
    await factory.discount("BIG", kind=DiscountKind.fixed, value=Decimal(5), min_subtotal=Decimal("25.00"))
    async with database.transaction() as session:
        session.add(DiscountCustomerUse(discount_id=once.id, user_id=customer.id, uses=1))

    assert await _refusal(database, "NOPE") is DiscountRefusal.unknown
    assert await _refusal(database, "off") is DiscountRefusal.inactive
    assert await _refusal(database, "LATER") is DiscountRefusal.not_started
    assert await _refusal(database, "OVER") is DiscountRefusal.expired
    assert await _refusal(database, "GONE") is DiscountRefusal.used_up
    assert await _refusal(database, "ONCE", user_id=customer.id) is DiscountRefusal.used_up_for_customer
    assert await _refusal(database, "BIG", subtotal="24.99") is DiscountRefusal.below_min_subtotal
    # A customer who has not used it yet, or a cart no one is logged in to, may apply it.
    other = await factory.customer()
    assert (await _applicable(database, "ONCE", user_id=other.id)).code == "ONCE"
    assert (await _applicable(database, "ONCE", user_id=None)).code == "ONCE"
    assert (await _applicable(database, "BIG", subtotal="25.00")).code == "BIG"


async def test_invalid_discount_says_why_in_its_detail() -> None:
    details = {reason: InvalidDiscount(reason).detail for reason in DiscountRefusal}

    assert details[DiscountRefusal.expired] == "This discount code has expired."
    assert len(set(details.values())) == len(DiscountRefusal)


async def test_claim_counts_a_use_overall_and_for_the_customer(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    made = await factory.discount("COUNTED", max_uses=2, max_uses_per_customer=5)

    async with database.transaction() as session:
        discount = await service.applicable_discount(
            session, "counted", subtotal=Decimal(10), user_id=customer.id, now=NOW
        )
        await service.claim_discount(session, discount, customer.id)
        assert discount.used == 1  # the session's copy follows the update

    assert await _uses(database, made.id, customer.id) == (1, 1)
    async with database.read_session() as session:
        stored = await session.get(Discount, made.id)
    assert stored is not None
    assert stored.version == 2  # its ETag moves with `used`


async def test_claim_refuses_beyond_max_uses_and_the_caller_rolls_back(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    made = await factory.discount("LAST", max_uses=1, used=1)

    with pytest.raises(InvalidDiscount) as refused:
        async with database.transaction() as session:
            await service.claim_discount(session, made, customer.id)

    assert refused.value.reason is DiscountRefusal.used_up
    assert await _uses(database, made.id, customer.id) == (1, 0)


async def test_claim_refuses_beyond_the_customers_limit(database: Database, factory: Factory) -> None:
    customer, other = await factory.customer(), await factory.customer()
    made = await factory.discount("TWICE", max_uses_per_customer=2)
    for _ in range(2):
        async with database.transaction() as session:
            await service.claim_discount(session, made, customer.id)

    with pytest.raises(InvalidDiscount) as refused:
        async with database.transaction() as session:
            await service.claim_discount(session, made, customer.id)
    async with database.transaction() as session:
        await service.claim_discount(session, made, other.id)

    assert refused.value.reason is DiscountRefusal.used_up_for_customer
    # The refused claim's count of the discount went with its rollback: 2, then the other customer's.
    assert await _uses(database, made.id, customer.id) == (3, 2)
    assert await _uses(database, made.id, other.id) == (3, 1)


async def test_claim_refuses_an_inactive_code(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    made = await factory.discount("PAUSED", active=False)

    with pytest.raises(InvalidDiscount) as refused:
        async with database.transaction() as session:
            await service.claim_discount(session, made, customer.id)

    assert refused.value.reason is DiscountRefusal.inactive
    assert await _uses(database, made.id, customer.id) == (0, 0)


async def test_release_gives_a_use_back_never_below_zero(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    made = await factory.discount("BACK", max_uses=1, max_uses_per_customer=1)
    async with database.transaction() as session:
        await service.claim_discount(session, made, customer.id)

    for _ in range(2):
        async with database.transaction() as session:
            await service.release_discount(session, made.id, customer.id)

    assert await _uses(database, made.id, customer.id) == (0, 0)
    # The use given back can be taken again.
    async with database.transaction() as session:
        await service.claim_discount(session, made, customer.id)
    assert await _uses(database, made.id, customer.id) == (1, 1)


async def test_claim_of_a_code_deleted_meanwhile_is_refused(database: Database, factory: Factory) -> None:
    customer = await factory.customer()
    made = await factory.discount("VANISHED")
    async with database.transaction() as session:
        await session.delete(await session.get(Discount, made.id))

    with pytest.raises(InvalidDiscount) as refused:
        async with database.transaction() as session:
            await service.claim_discount(session, made, customer.id)

    assert refused.value.reason is DiscountRefusal.unknown


async def test_release_of_a_deleted_discount_does_nothing(database: Database, factory: Factory) -> None:
    customer = await factory.customer()

    async with database.transaction() as session:
        await service.release_discount(session, 12345, customer.id)


async def test_shipping_for_a_country_the_method_serves(database: Database, factory: Factory) -> None:
    made = await factory.shipping_method("Standard", countries=["DE", "FR"], free_over=Decimal(50))
    await factory.shipping_method("paused", active=False)

    async with database.read_session() as session:
        method = await service.shipping_for(session, "standard", "fr")
        with pytest.raises(ShippingUnavailable, match="does not ship to IT"):
            await service.shipping_for(session, "standard", "IT")
        with pytest.raises(ShippingUnavailable, match="no such"):
            await service.shipping_for(session, "paused", "DE")
        with pytest.raises(ShippingUnavailable) as unknown:
            await service.shipping_for(session, "teleport", "DE")

    assert method.id == made.id
    assert (unknown.value.status_code, unknown.value.code) == (422, "shipping_unavailable")
    assert service.pricing_shipping(method) == pricing.Shipping(price=Decimal("4.90"), free_over=Decimal("50.00"))


async def test_tax_rate_for_a_country(database: Database, factory: Factory) -> None:
    await factory.tax_rate("FI", Decimal("25.5"))

    async with database.read_session() as session:
        assert await service.tax_rate_for(session, "fi") == Decimal("25.500")
        assert await service.tax_rate_for(session, "US") is None


async def test_the_rules_price_a_basket(database: Database, factory: Factory) -> None:
    """What the checkout will do: the rules' terms, priced by `storefront.pricing`."""
    await factory.discount("FIVEOFF", kind=DiscountKind.fixed, value=Decimal(5), min_subtotal=Decimal(25))
    await factory.shipping_method("standard", countries=["DE"], free_over=Decimal(50))
    await factory.tax_rate("DE", Decimal(19))
    lines = [Line(Decimal("19.99"), 2), Line(Decimal("12.50"), 1)]

    async with database.read_session() as session:
        discount = await service.applicable_discount(
            session, "fiveoff", subtotal=Decimal("52.48"), user_id=None, now=NOW
        )
        method = await service.shipping_for(session, "standard", "DE")
        rate = await service.tax_rate_for(session, "DE")
    breakdown = pricing.price(
        lines, discount=service.pricing_discount(discount), shipping=service.pricing_shipping(method), tax_rate=rate
    )

    assert service.pricing_discount(discount) == pricing.Discount(DiscountKind.fixed, Decimal("5.00"))
    # 52.48 - 5.00 = 47.48 is under the 50.00 for free shipping: 4.90 is charged.
    assert (breakdown.subtotal, breakdown.discount_total, breakdown.shipping_total) == (
        Decimal("52.48"),
        Decimal("5.00"),
        Decimal("4.90"),
    )
    assert breakdown.total == Decimal("52.38")
