"""Queries of the checkout rules, and the conditional updates that count a discount's uses.

Staff read and write every rule (the routes' `StaffUser`); the checkout reads
them by code or country. No rule is private to anyone, so there is no
"who may see this" filter here.
"""

from __future__ import annotations

from sqlalchemy import Select, String, cast, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import utcnow
from storefront.kit.search import contains_pattern
from storefront.models import Discount, DiscountCustomerUse, ShippingMethod, TaxRate, code_key
from storefront.pricing import DiscountKind

# --- discounts ---------------------------------------------------------------------------


def discounts(*, active: bool | None, kind: DiscountKind | None, code: str | None) -> Select[Discount]:
    query = select(Discount)
    if active is not None:
        query = query.where(Discount.active.is_(active))
    if kind is not None:
        query = query.where(Discount.kind == kind)
    if code:
        query = query.where(Discount.code_key.like(contains_pattern(code_key(code)), escape="\\"))
    return query


async def get_discount(session: AsyncSession, discount_id: int, *, for_update: bool = False) -> Discount | None:
    query = select(Discount).where(Discount.id == discount_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def discount_by_code(session: AsyncSession, code: str) -> Discount | None:
    """The discount whose code is `code`, ignoring case."""
    return (await session.scalars(select(Discount).where(Discount.code_key == code_key(code)))).first()


async def discount_code_taken(session: AsyncSession, code: str, *, excluding: int | None) -> bool:
    query = select(Discount.id).where(Discount.code_key == code_key(code))
    if excluding is not None:
        query = query.where(Discount.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


async def customer_uses(session: AsyncSession, discount_id: int, user_id: int) -> int:
    """How many times `user_id` has used the discount."""
    query = select(DiscountCustomerUse.uses).where(
        DiscountCustomerUse.discount_id == discount_id, DiscountCustomerUse.user_id == user_id
    )
    return int(await session.scalar(query) or 0)


async def discount_active(session: AsyncSession, discount_id: int) -> bool | None:
    """Whether the discount is active as the database has it now; None when it is gone."""
    return await session.scalar(select(Discount.active).where(Discount.id == discount_id))


async def count_use(session: AsyncSession, discount_id: int) -> bool:
    """One more use of an active discount, unless it is used up: False when nothing matched.

    One conditional UPDATE, never a read and a write: of any number of callers
    racing for the last use, the database lets exactly one match.
    """
    result = await session.execute(
        update(Discount)
        .where(
            Discount.id == discount_id,
            Discount.active.is_(True),
            (Discount.max_uses.is_(None)) | (Discount.used < Discount.max_uses),
        )
        .values(used=Discount.used + 1, version=Discount.version + 1, updated_at=utcnow())
        .returning(Discount.used)
        .execution_options(synchronize_session="fetch")
    )
    return result.scalar_one_or_none() is not None


async def count_customer_use(session: AsyncSession, discount_id: int, user_id: int, *, limit: int | None) -> bool:
    """One more use by `user_id`, unless they have had `limit` (None: no limit): False when nothing matched.

    `INSERT ... ON CONFLICT DO UPDATE ... WHERE uses < :limit`: the first use
    inserts the row, every later one updates it only while under the limit.
    PostgreSQL makes a racing insert of the same row wait and then take the
    update path, checking the condition against the row as committed; SQLite
    runs one writer at a time.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    first = insert(DiscountCustomerUse).values(discount_id=discount_id, user_id=user_id, uses=1)
    counted = first.on_conflict_do_update(
        index_elements=[DiscountCustomerUse.discount_id, DiscountCustomerUse.user_id],
        set_={"uses": DiscountCustomerUse.uses + 1},
        where=DiscountCustomerUse.uses < limit if limit is not None else None,
    )
    return (await session.execute(counted.returning(DiscountCustomerUse.uses))).scalar_one_or_none() is not None


async def give_back_use(session: AsyncSession, discount_id: int, user_id: int) -> None:
    """One use fewer, of the discount and of the customer's, neither below zero."""
    await session.execute(
        update(Discount)
        .where(Discount.id == discount_id, Discount.used > 0)
        .values(used=Discount.used - 1, version=Discount.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        update(DiscountCustomerUse)
        .where(
            DiscountCustomerUse.discount_id == discount_id,
            DiscountCustomerUse.user_id == user_id,
            DiscountCustomerUse.uses > 0,
        )
        .values(uses=DiscountCustomerUse.uses - 1)
        .execution_options(synchronize_session=False)
    )


# --- shipping methods ----------------------------------------------------------------------


def shipping_methods(*, active: bool | None, country: str | None, code: str | None) -> Select[ShippingMethod]:
    query = select(ShippingMethod)
    if active is not None:
        query = query.where(ShippingMethod.active.is_(active))
    if country is not None:
        # `countries` is a JSON list of quoted two-letter codes (`["BE", "DE"]`): its
        # text holds `"DE"` exactly when the list does, on both databases alike.
        query = query.where(cast(ShippingMethod.countries, String).contains(f'"{country.upper()}"'))
    if code:
        query = query.where(ShippingMethod.code_key.like(contains_pattern(code_key(code)), escape="\\"))
    return query


async def get_shipping_method(
    session: AsyncSession, method_id: int, *, for_update: bool = False
) -> ShippingMethod | None:
    query = select(ShippingMethod).where(ShippingMethod.id == method_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def shipping_method_by_code(session: AsyncSession, code: str) -> ShippingMethod | None:
    query = select(ShippingMethod).where(ShippingMethod.code_key == code_key(code))
    return (await session.scalars(query)).first()


async def shipping_code_taken(session: AsyncSession, code: str, *, excluding: int | None) -> bool:
    query = select(ShippingMethod.id).where(ShippingMethod.code_key == code_key(code))
    if excluding is not None:
        query = query.where(ShippingMethod.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


# --- tax rates -------------------------------------------------------------------------------


def tax_rates(*, country: str | None) -> Select[TaxRate]:
    query = select(TaxRate)
    if country is not None:
        query = query.where(TaxRate.country == country.upper())
    return query


async def get_tax_rate(session: AsyncSession, rate_id: int, *, for_update: bool = False) -> TaxRate | None:
    query = select(TaxRate).where(TaxRate.id == rate_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def tax_rate_of(session: AsyncSession, country: str) -> TaxRate | None:
    return (await session.scalars(select(TaxRate).where(TaxRate.country == country.upper()))).first()


async def country_taken(session: AsyncSession, country: str, *, excluding: int | None) -> bool:
    query = select(TaxRate.id).where(TaxRate.country == country.upper())
    if excluding is not None:
        query = query.where(TaxRate.id != excluding)
    return (await session.scalar(query.limit(1))) is not None
