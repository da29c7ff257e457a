"""Catalog services called directly: they flush, never commit, and raise domain errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from storefront.catalog import repository, service
from storefront.catalog.errors import InsufficientStock, SkuTaken, StockLimitExceeded
from storefront.catalog.schemas import MAX_STOCK, ProductCreate, ProductUpdate
from storefront.catalog.service import ProductFilters
from storefront.database import Database
from storefront.kit.pagination import Page, Sort
from storefront.models import Product
from tests.factories import Factory


async def test_create_flushes_but_leaves_the_commit_to_the_caller(database: Database) -> None:
    async with database.write_session() as session:
        product = await service.create(session, ProductCreate(name="Cup", price=Decimal("1.00")))
        assert product.id is not None
        await session.rollback()

    async with database.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 0


async def test_update_applies_only_the_fields_sent(database: Database, factory: Factory) -> None:
    made = await factory.product(name="Cup", description="Blue", stock=4)

    async with database.write_session() as session, session.begin():
        product = await session.get_one(Product, made.id)
        await service.update(session, product, ProductUpdate(description=None))

    stored = await factory.reload(Product, made.id)
    assert (stored.name, stored.description, stored.stock) == ("Cup", None, 4)
    assert stored.version == made.version + 1


async def test_create_with_a_taken_sku_raises(database: Database, factory: Factory) -> None:
    await factory.product(sku="S-1")

    async with database.write_session() as session:
        with pytest.raises(SkuTaken):
            await service.create(session, ProductCreate(name="Cup", price=Decimal("1.00"), sku="S-1"))


async def test_adjust_stock_raises_and_changes_nothing(database: Database, factory: Factory) -> None:
    made = await factory.product(stock=2)

    async with database.write_session() as session:
        product = await session.get_one(Product, made.id)
        with pytest.raises(InsufficientStock) as below:
            await service.adjust_stock(session, product, -3, stock_low_threshold=5)
        with pytest.raises(StockLimitExceeded):
            await service.adjust_stock(session, product, MAX_STOCK - 1, stock_low_threshold=5)
        assert (await service.adjust_stock(session, product, MAX_STOCK - 2, stock_low_threshold=5)).stock == MAX_STOCK
        await session.commit()

    assert below.value.extra == {"product_ids": [made.id]}
    assert (await factory.reload(Product, made.id)).stock == MAX_STOCK


async def test_add_stock_without_a_ceiling_only_guards_zero(database: Database, factory: Factory) -> None:
    # Orders take and return stock through this without a ceiling.
    made = await factory.product(stock=1)

    async with database.write_session() as session, session.begin():
        assert await repository.add_stock(session, made.id, 5) is True
        assert await repository.add_stock(session, made.id, -7) is False
        assert await repository.add_stock(session, made.id, -6) is True
        assert await repository.add_stock(session, made.id, -1) is False

    assert (await factory.reload(Product, made.id)).stock == 0


async def test_list_products_shows_archived_ones_to_staff_only(database: Database, factory: Factory) -> None:
    await factory.product(name="Cup", category="kitchen")
    await factory.product(name="Old cup", category="kitchen", archived=True)
    await factory.product(name="Lamp", category="lighting")
    staff = await factory.staff()
    kitchen, by_name = ProductFilters(category="Kitchen"), Sort(field="name", descending=False)

    async with database.read_session() as session:
        anonymous = await service.list_products(session, None, kitchen, Page(skip=0, limit=20), by_name)
        for_staff = await service.list_products(session, staff.user, kitchen, Page(skip=1, limit=1), by_name)

    assert ([p.name for p in anonymous.items], anonymous.total) == (["Cup"], 1)
    assert ([p.name for p in for_staff.items], for_staff.total) == (["Old cup"], 2)
