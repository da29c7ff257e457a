"""The checkout rules: staff keep them; the checkout asks them what applies.

Services flush, never commit: the request boundary (or the caller's unit of
work) does. What a basket costs under these rules is `storefront.pricing`'s to
work out; `pricing_discount` and `pricing_shipping` hand it the terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from storefront import pricing
from storefront.errors import AppError
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Discount, ShippingMethod, TaxRate, code_key
from storefront.pricing import DiscountKind
from storefront.rules import repository
from storefront.rules.errors import (
    DiscountCodeTaken,
    DiscountRefusal,
    InvalidChange,
    InvalidDiscount,
    ShippingMethodCodeTaken,
    ShippingUnavailable,
    TaxRateExists,
)
from storefront.rules.schemas import (
    HUNDRED,
    DiscountCreate,
    DiscountUpdate,
    ShippingMethodCreate,
    ShippingMethodUpdate,
    TaxRateCreate,
    TaxRateUpdate,
)
from storefront.uow import UnitOfWork

DISCOUNT_SORTABLE: dict[str, Sortable] = {
    "code": Discount.code_key,
    "created_at": Discount.created_at,
    "used": Discount.used,
    "id": Discount.id,
}
SHIPPING_SORTABLE: dict[str, Sortable] = {
    "code": ShippingMethod.code_key,
    "name": ShippingMethod.name,
    "price": ShippingMethod.price,
    "created_at": ShippingMethod.created_at,
}
TAX_SORTABLE: dict[str, Sortable] = {
    "country": TaxRate.country,
    "rate": TaxRate.rate,
    "created_at": TaxRate.created_at,
}


@dataclass(frozen=True, slots=True)
class DiscountFilters:
    active: bool | None = None
    kind: DiscountKind | None = None
    code: str | None = None  # the code contains this, ignoring case


@dataclass(frozen=True, slots=True)
class ShippingFilters:
    active: bool | None = None
    country: str | None = None  # ships there
    code: str | None = None


@dataclass(frozen=True, slots=True)
class TaxRateFilters:
    country: str | None = None


# --- discounts: what staff do ------------------------------------------------------------------


async def list_discounts(session: UnitOfWork, filters: DiscountFilters, page: Page, sort: Sort) -> PageOf[Discount]:
    query = repository.discounts(active=filters.active, kind=filters.kind, code=filters.code)
    return await fetch(session, query.order_by(*order_by(DISCOUNT_SORTABLE[sort.field], sort, Discount.id)), page)


async def create_discount(session: UnitOfWork, data: DiscountCreate) -> Discount:
    """A new discount code; 409 `discount_code_taken` when one differs from it only in case."""
    _check_discount(data.kind, data.value, data.starts_at, data.ends_at)
    await _ensure_discount_code_free(session, data.code, excluding=None)
    discount = Discount(**data.model_dump(), code_key=code_key(data.code), used=0)
    session.add(discount)
    await _flush(session, DiscountCodeTaken())
    return discount


async def update_discount(session: UnitOfWork, discount: Discount, data: DiscountUpdate) -> Discount:
    """Change the fields sent; the discount they leave must still hold together (else 422).

    `discount` is held for this transaction (`WritableDiscount`), so its `used`
    cannot move while `max_uses` is checked against it.
    """
    changes = data.changes()
    after = {name: changes.get(name, getattr(discount, name)) for name in ("kind", "value", "starts_at", "ends_at")}
    _check_discount(after["kind"], after["value"], after["starts_at"], after["ends_at"])
    max_uses = changes.get("max_uses", discount.max_uses)
    if max_uses is not None and max_uses < discount.used:
        raise InvalidChange("max_uses", f"the code has been used {discount.used} times: max_uses cannot be lower")
    if "code" in changes:
        await _ensure_discount_code_free(session, changes["code"], excluding=discount.id)
        changes["code_key"] = code_key(changes["code"])
    for name, value in changes.items():
        setattr(discount, name, value)
    await _flush(session, DiscountCodeTaken())
    return discount


async def delete_discount(session: UnitOfWork, discount: Discount) -> None:
    """Remove the code; orders that used it keep it written on them."""
    await session.delete(discount)
    await session.flush()


def _check_discount(kind: DiscountKind, value: Decimal, starts_at: datetime | None, ends_at: datetime | None) -> None:
    if kind == DiscountKind.percent and value > HUNDRED:
        raise InvalidChange("value", "a percent discount is at most 100")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidChange("ends_at", "ends_at must be after starts_at")


async def _ensure_discount_code_free(session: UnitOfWork, code: str, *, excluding: int | None) -> None:
    if await repository.discount_code_taken(session, code, excluding=excluding):
        raise DiscountCodeTaken()


# --- discounts: what the checkout asks ---------------------------------------------------------


async def applicable_discount(
    session: UnitOfWork, code: str, *, subtotal: Decimal, user_id: int | None, now: datetime
) -> Discount:
    """The discount `code` names (ignoring case) if it may be used now on a basket
    of `subtotal` by `user_id`; else 422 `invalid_discount` with the reason.

    Without a `user_id` (a cart no one has logged in to) the per-customer limit
    is not looked at here; `claim_discount`, at checkout, enforces it.
    """
    discount = await repository.discount_by_code(session, code)
    if discount is None:
        raise InvalidDiscount(DiscountRefusal.unknown)
    if not discount.active:
        raise InvalidDiscount(DiscountRefusal.inactive)
    if discount.starts_at is not None and now < discount.starts_at:
        raise InvalidDiscount(DiscountRefusal.not_started)
    if discount.ends_at is not None and now >= discount.ends_at:
        raise InvalidDiscount(DiscountRefusal.expired)
    if discount.max_uses is not None and discount.used >= discount.max_uses:
        raise InvalidDiscount(DiscountRefusal.used_up)
    limit = discount.max_uses_per_customer
    if (
        user_id is not None
        and limit is not None
        and await repository.customer_uses(session, discount.id, user_id) >= limit
    ):
        raise InvalidDiscount(DiscountRefusal.used_up_for_customer)
    if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
        raise InvalidDiscount(DiscountRefusal.below_min_subtotal)
    return discount


async def claim_discount(session: UnitOfWork, discount: Discount, user_id: int) -> None:
    """Count one use of `discount` by `user_id`, never beyond `max_uses` nor
    `max_uses_per_customer`, whatever the concurrency; 422 `invalid_discount`
    (used up, or used up for this customer) when there is no use left, and the
    caller's transaction then rolls back whatever it had counted.

    Every use is counted per customer too, limit or not, so a limit set later
    counts the uses before it.
    """
    # The discount's row first: every claim takes the same locks in the same
    # order, and a code deleted meanwhile is refused before its uses are written.
    if not await repository.count_use(session, discount.id):
        # Nothing matched: used up, or since switched off or deleted (the reason, read afresh).
        active = await repository.discount_active(session, discount.id)
        reasons = {None: DiscountRefusal.unknown, False: DiscountRefusal.inactive, True: DiscountRefusal.used_up}
        raise InvalidDiscount(reasons[active])
    limit = discount.max_uses_per_customer
    if not await repository.count_customer_use(session, discount.id, user_id, limit=limit):
        raise InvalidDiscount(DiscountRefusal.used_up_for_customer)


async def release_discount(session: UnitOfWork, discount_id: int, user_id: int) -> None:
    """Give back one use (of an order cancelled or left unpaid); never below zero, and
    nothing at all for a discount since deleted."""
    await repository.give_back_use(session, discount_id, user_id)


def pricing_discount(discount: Discount) -> pricing.Discount:
    """The terms `pricing.price` takes."""
    return pricing.Discount(kind=DiscountKind(discount.kind), value=discount.value)


# --- shipping methods --------------------------------------------------------------------------


async def list_shipping_methods(
    session: UnitOfWork, filters: ShippingFilters, page: Page, sort: Sort
) -> PageOf[ShippingMethod]:
    query = repository.shipping_methods(active=filters.active, country=filters.country, code=filters.code)
    order = order_by(SHIPPING_SORTABLE[sort.field], sort, ShippingMethod.id)
    return await fetch(session, query.order_by(*order), page)


async def create_shipping_method(session: UnitOfWork, data: ShippingMethodCreate) -> ShippingMethod:
    await _ensure_shipping_code_free(session, data.code, excluding=None)
    method = ShippingMethod(**data.model_dump(), code_key=code_key(data.code))
    session.add(method)
    await _flush(session, ShippingMethodCodeTaken())
    return method


async def update_shipping_method(
    session: UnitOfWork, method: ShippingMethod, data: ShippingMethodUpdate
) -> ShippingMethod:
    changes = data.changes()
    if "code" in changes:
        await _ensure_shipping_code_free(session, changes["code"], excluding=method.id)
        changes["code_key"] = code_key(changes["code"])
    for name, value in changes.items():
        setattr(method, name, value)
    await _flush(session, ShippingMethodCodeTaken())
    return method


async def delete_shipping_method(session: UnitOfWork, method: ShippingMethod) -> None:
    await session.delete(method)
    await session.flush()


async def _ensure_shipping_code_free(session: UnitOfWork, code: str, *, excluding: int | None) -> None:
    if await repository.shipping_code_taken(session, code, excluding=excluding):
        raise ShippingMethodCodeTaken()


async def shipping_for(session: UnitOfWork, code: str, country: str) -> ShippingMethod:
    """The active shipping method `code` names (ignoring case) if it ships to
    `country`; else 422 `shipping_unavailable`."""
    method = await repository.shipping_method_by_code(session, code)
    if method is None or not method.active:
        raise ShippingUnavailable("There is no such shipping method.")
    if not method.serves(country):
        raise ShippingUnavailable(f"Shipping method {method.code} does not ship to {country.upper()}.")
    return method


def pricing_shipping(method: ShippingMethod) -> pricing.Shipping:
    """The terms `pricing.price` takes."""
    return pricing.Shipping(price=method.price, free_over=method.free_over)


# --- tax rates ---------------------------------------------------------------------------------


async def list_tax_rates(session: UnitOfWork, filters: TaxRateFilters, page: Page, sort: Sort) -> PageOf[TaxRate]:
    query = repository.tax_rates(country=filters.country)
    return await fetch(session, query.order_by(*order_by(TAX_SORTABLE[sort.field], sort, TaxRate.id)), page)


async def create_tax_rate(session: UnitOfWork, data: TaxRateCreate) -> TaxRate:
    """The rate of a country that has none; 409 `tax_rate_exists` otherwise."""
    await _ensure_country_free(session, data.country, excluding=None)
    rate = TaxRate(**data.model_dump())
    session.add(rate)
    await _flush(session, TaxRateExists())
    return rate


async def update_tax_rate(session: UnitOfWork, rate: TaxRate, data: TaxRateUpdate) -> TaxRate:
    changes = data.changes()
    if "country" in changes:
        await _ensure_country_free(session, changes["country"], excluding=rate.id)
    for name, value in changes.items():
        setattr(rate, name, value)
    await _flush(session, TaxRateExists())
    return rate


async def delete_tax_rate(session: UnitOfWork, rate: TaxRate) -> None:
    await session.delete(rate)
    await session.flush()


async def _ensure_country_free(session: UnitOfWork, country: str, *, excluding: int | None) -> None:
    if await repository.country_taken(session, country, excluding=excluding):
        raise TaxRateExists()


async def tax_rate_for(session: UnitOfWork, country: str) -> Decimal | None:
    """The tax rate (a percentage) of `country`, or None where none is set."""
    rate = await repository.tax_rate_of(session, country)
    return rate.rate if rate is not None else None


async def _flush(session: UnitOfWork, taken: AppError) -> None:
    # Two racing writers can both pass the check before; the unique constraint decides.
    try:
        await session.flush()
    except IntegrityError as exc:
        raise taken from exc
