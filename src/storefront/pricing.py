"""What a basket costs: subtotal, discount, shipping, tax and total, one way everywhere.

Carts, checkout, orders, emails and exports all price through `price()`, so
the same basket shows the same numbers wherever it is seen. The rules:

- Money is `Decimal` with two places; every rounding is half-up to the cent,
  and it is done per line, never on a sum.
- A percent discount is taken from each line (rounded per line); a fixed one
  is spread over the lines in proportion to their totals (largest remainder, so
  the shares add up to the cent). No discount is ever more than the subtotal.
- Shipping is free when the discounted subtotal is at or above `free_over`.
- Tax is the shipping country's rate on each discounted line and on shipping.
  When prices include tax it is the part of the amount that is tax,
  `amount * rate / (100 + rate)`; otherwise it is `amount * rate / 100` and is
  added to the total.

Nothing here touches the database: it is plain arithmetic on plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def to_cent(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to the cent: the one rounding Storefront does."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class DiscountKind(StrEnum):
    percent = "percent"
    fixed = "fixed"


@dataclass(frozen=True, slots=True)
class Line:
    unit_price: Decimal
    quantity: int

    @property
    def total(self) -> Decimal:
        return to_cent(self.unit_price * self.quantity)


@dataclass(frozen=True, slots=True)
class Discount:
    """A percent (0..100) or a fixed amount off the goods."""

    kind: DiscountKind
    value: Decimal


@dataclass(frozen=True, slots=True)
class Shipping:
    price: Decimal
    free_over: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    total: Decimal
    discount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Breakdown:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal


def price(
    lines: Sequence[Line],
    *,
    discount: Discount | None = None,
    shipping: Shipping | None = None,
    tax_rate: Decimal | None = None,
    prices_include_tax: bool = True,
) -> Breakdown:
    """Price `lines` with an optional discount, shipping method and tax rate (a percentage)."""
    totals = [line.total for line in lines]
    subtotal = sum(totals, start=ZERO)
    discounts = _discounts(totals, discount)
    goods = subtotal - sum(discounts, start=ZERO)
    shipping_total = ZERO
    if shipping is not None and (shipping.free_over is None or goods < shipping.free_over):
        shipping_total = to_cent(shipping.price)
    rate = tax_rate or ZERO
    taxes = [_tax(total - off, rate, prices_include_tax) for total, off in zip(totals, discounts, strict=True)]
    tax_total = sum(taxes, start=ZERO) + _tax(shipping_total, rate, prices_include_tax)
    total = goods + shipping_total + (ZERO if prices_include_tax else tax_total)
    return Breakdown(
        lines=tuple(PricedLine(t, d, x) for t, d, x in zip(totals, discounts, taxes, strict=True)),
        subtotal=subtotal,
        discount_total=subtotal - goods,
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=total,
    )


def _discounts(totals: Sequence[Decimal], discount: Discount | None) -> list[Decimal]:
    """Each line's share of the discount, in cents, never more than the line itself."""
    if discount is None or not totals:
        return [ZERO for _ in totals]
    if discount.kind == DiscountKind.percent:
        percent = min(max(discount.value, ZERO), HUNDRED)
        return [min(to_cent(total * percent / HUNDRED), total) for total in totals]
    subtotal = sum(totals, start=ZERO)
    amount = min(max(to_cent(discount.value), ZERO), subtotal)
    if amount == ZERO:
        return [ZERO for _ in totals]
    # Largest remainder: floor each proportional share to the cent, then hand
    # the cents left over to the lines that lost the most to the floor.
    exact = [amount * total / subtotal for total in totals]
    shares = [share.quantize(CENT, rounding=ROUND_DOWN) for share in exact]
    left = int((amount - sum(shares, start=ZERO)) / CENT)
    by_remainder = sorted(range(len(totals)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[:left]:
        shares[i] += CENT
    return shares


def _tax(amount: Decimal, rate: Decimal, included: bool) -> Decimal:
    if rate == ZERO or amount == ZERO:
        return ZERO
    return to_cent(amount * rate / (HUNDRED + rate) if included else amount * rate / HUNDRED)
