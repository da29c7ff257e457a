"""Order services called directly."""

from __future__ import annotations

from storefront.config import Settings
from storefront.database import Database
from storefront.kit.pagination import Page, Sort
from storefront.models import Order, User
from storefront.orders import service
from storefront.orders.schemas import OrderCreate, OrderLineCreate
from storefront.orders.service import OrderFilters
from storefront.payments.adapters import provider_from_settings
from tests.factories import Factory

BY_ID = Sort(field="id", descending=False)
ALL = Page(skip=0, limit=20)
PROVIDER = provider_from_settings(Settings(_env_file=None))


async def _place(database: Database, buyer: User, product_id: int) -> Order:
    async with database.transaction() as uow:
        body = OrderCreate(items=[OrderLineCreate(product_id=product_id, quantity=1)])
        return await service.place(uow, buyer, body, payment_provider=PROVIDER)


async def test_list_orders_reads_what_the_viewer_may(database: Database, factory: Factory) -> None:
    alice, bob, staff = await factory.customer(), await factory.customer(), await factory.staff()
    product = await factory.product(stock=10)
    alices = [(await _place(database, alice.user, product.id)).id for _ in range(2)]
    bobs = (await _place(database, bob.user, product.id)).id

    async with database.read_session() as session:
        # A customer's `user_id` filter is ignored: their own orders are all they read.
        for_alice = await service.list_orders(session, alice.user, OrderFilters(user_id=bob.id), ALL, BY_ID)
        for_staff = await service.list_orders(session, staff.user, OrderFilters(user_id=bob.id), ALL, BY_ID)
        second = await service.list_orders(session, staff.user, OrderFilters(), Page(skip=1, limit=1), BY_ID)

    assert ([order.id for order in for_alice.items], for_alice.total) == (alices, 2)
    assert ([order.id for order in for_staff.items], for_staff.total) == ([bobs], 1)
    assert ([order.id for order in second.items], second.total) == ([alices[1]], 3)
