"""Load-and-check dependencies for the ids of rules in paths.

Each takes `StaffUser` first: a customer is refused (403) whether or not the
id names anything, so the answer tells them nothing about which rules exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from storefront.auth.dependencies import StaffUser
from storefront.context import SessionDep, WriteSession
from storefront.kit.schemas import MAX_ID
from storefront.models import Discount, ShippingMethod, TaxRate
from storefront.rules import repository
from storefront.rules.errors import DiscountNotFound, ShippingMethodNotFound, TaxRateNotFound
from storefront.uow import UnitOfWork

DiscountId = Annotated[int, Path(ge=1, le=MAX_ID, description="The discount's id.")]
ShippingMethodId = Annotated[int, Path(ge=1, le=MAX_ID, description="The shipping method's id.")]
TaxRateId = Annotated[int, Path(ge=1, le=MAX_ID, description="The tax rate's id.")]


async def _discount(session: UnitOfWork, discount_id: int, *, for_update: bool) -> Discount:
    discount = await repository.get_discount(session, discount_id, for_update=for_update)
    if discount is None:
        raise DiscountNotFound()
    return discount


async def _visible_discount(_: StaffUser, discount_id: DiscountId, session: SessionDep) -> Discount:
    return await _discount(session, discount_id, for_update=False)


async def _writable_discount(_: StaffUser, discount_id: DiscountId, session: WriteSession) -> Discount:
    """As `VisibleDiscount`, with its row held until the transaction ends: two
    changes (or a change and a use at checkout) run one after the other."""
    return await _discount(session, discount_id, for_update=True)


async def _shipping_method(session: UnitOfWork, method_id: int, *, for_update: bool) -> ShippingMethod:
    method = await repository.get_shipping_method(session, method_id, for_update=for_update)
    if method is None:
        raise ShippingMethodNotFound()
    return method


async def _visible_shipping_method(
    _: StaffUser, shipping_method_id: ShippingMethodId, session: SessionDep
) -> ShippingMethod:
    return await _shipping_method(session, shipping_method_id, for_update=False)


async def _writable_shipping_method(
    _: StaffUser, shipping_method_id: ShippingMethodId, session: WriteSession
) -> ShippingMethod:
    return await _shipping_method(session, shipping_method_id, for_update=True)


async def _tax_rate(session: UnitOfWork, rate_id: int, *, for_update: bool) -> TaxRate:
    rate = await repository.get_tax_rate(session, rate_id, for_update=for_update)
    if rate is None:
        raise TaxRateNotFound()
    return rate


async def _visible_tax_rate(_: StaffUser, tax_rate_id: TaxRateId, session: SessionDep) -> TaxRate:
    return await _tax_rate(session, tax_rate_id, for_update=False)


async def _writable_tax_rate(_: StaffUser, tax_rate_id: TaxRateId, session: WriteSession) -> TaxRate:
    return await _tax_rate(session, tax_rate_id, for_update=True)


VisibleDiscount = Annotated[Discount, Depends(_visible_discount)]
WritableDiscount = Annotated[Discount, Depends(_writable_discount)]
VisibleShippingMethod = Annotated[ShippingMethod, Depends(_visible_shipping_method)]
WritableShippingMethod = Annotated[ShippingMethod, Depends(_writable_shipping_method)]
VisibleTaxRate = Annotated[TaxRate, Depends(_visible_tax_rate)]
WritableTaxRate = Annotated[TaxRate, Depends(_writable_tax_rate)]
