"""The pricing rules: the breakdown always adds up, never goes below zero, and rounds one way."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from storefront.pricing import ZERO, Discount, DiscountKind, Line, Shipping, price, to_cent

cents = st.integers(min_value=1, max_value=100_000_000).map(lambda n: Decimal(n) / 100)
lines = st.lists(
    st.builds(Line, unit_price=cents, quantity=st.integers(min_value=1, max_value=1000)), min_size=0, max_size=50
)
discounts = st.one_of(
    st.none(),
    st.builds(
        Discount,
        kind=st.just(DiscountKind.percent),
        value=st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 100),
    ),
    st.builds(Discount, kind=st.just(DiscountKind.fixed), value=cents),
)
shippings = st.one_of(st.none(), st.builds(Shipping, price=cents, free_over=st.one_of(st.none(), cents)))
rates = st.one_of(st.none(), st.integers(min_value=0, max_value=100_000).map(lambda n: Decimal(n) / 1000))


@given(lines, discounts, shippings, rates, st.booleans())
def test_the_breakdown_adds_up_and_never_goes_below_zero(
    basket: list[Line], discount: Discount | None, shipping: Shipping | None, rate: Decimal | None, inclusive: bool
) -> None:
    result = price(basket, discount=discount, shipping=shipping, tax_rate=rate, prices_include_tax=inclusive)

    assert result.subtotal == sum((line.unit_price * line.quantity for line in basket), start=ZERO)
    assert result.discount_total == sum((line.discount for line in result.lines), start=ZERO)
    assert ZERO <= result.discount_total <= result.subtotal
    assert all(ZERO <= line.discount <= line.total for line in result.lines)
    added_tax = ZERO if inclusive else result.tax_total
    assert result.total == result.subtotal - result.discount_total + result.shipping_total + added_tax
    assert result.total >= ZERO
    assert result.tax_total >= ZERO
    if inclusive:
        assert result.tax_total <= result.total
    for amount in (result.subtotal, result.discount_total, result.shipping_total, result.tax_total, result.total):
        assert amount == to_cent(amount), "every amount is whole cents"


@given(lines, cents)
def test_a_fixed_discount_takes_exactly_its_amount_or_the_whole_subtotal(basket: list[Line], amount: Decimal) -> None:
    result = price(basket, discount=Discount(DiscountKind.fixed, amount))

    assert result.discount_total == min(amount, result.subtotal)
    assert sum((line.discount for line in result.lines), start=ZERO) == result.discount_total


def test_a_percent_discount_is_rounded_half_up_on_each_line() -> None:
    # 10% of 0.05 is 0.005: half-up gives a cent on each line, 2 cents in all
    # (a discount rounded on the sum, 0.01, would differ).
    result = price(
        [Line(Decimal("0.05"), 1), Line(Decimal("0.05"), 1)], discount=Discount(DiscountKind.percent, Decimal(10))
    )

    assert [line.discount for line in result.lines] == [Decimal("0.01"), Decimal("0.01")]
    assert result.discount_total == Decimal("0.02")
    assert result.total == Decimal("0.08")


def test_a_fixed_discount_is_spread_by_largest_remainder() -> None:
    result = price([Line(Decimal("1.00"), 1)] * 3, discount=Discount(DiscountKind.fixed, Decimal("1.00")))

    assert [line.discount for line in result.lines] == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]


def test_a_fixed_discount_never_makes_the_total_negative() -> None:
    result = price([Line(Decimal("5.00"), 1)], discount=Discount(DiscountKind.fixed, Decimal("20.00")))

    assert (result.discount_total, result.total) == (Decimal("5.00"), ZERO)


def test_included_tax_is_the_part_of_the_price_that_is_tax() -> None:
    result = price([Line(Decimal("119.00"), 1)], tax_rate=Decimal(19), prices_include_tax=True)

    assert (result.tax_total, result.total) == (Decimal("19.00"), Decimal("119.00"))


def test_excluded_tax_is_added_to_the_total() -> None:
    result = price(
        [Line(Decimal("10.00"), 3)],
        shipping=Shipping(Decimal("4.99")),
        tax_rate=Decimal("8.875"),
        prices_include_tax=False,
    )

    # 30.00 * 8.875% = 2.6625 -> 2.66; shipping 4.99 * 8.875% = 0.4428... -> 0.44.
    assert result.tax_total == Decimal("3.10")
    assert result.total == Decimal("38.09")


def test_shipping_is_free_at_or_above_its_threshold_after_the_discount() -> None:
    free_over = Shipping(Decimal("5.00"), free_over=Decimal("50.00"))
    basket = [Line(Decimal("50.00"), 1)]

    assert price(basket, shipping=free_over).shipping_total == ZERO
    discounted = price(basket, shipping=free_over, discount=Discount(DiscountKind.fixed, Decimal("0.01")))
    assert discounted.shipping_total == Decimal("5.00")
    assert discounted.total == Decimal("54.99")
