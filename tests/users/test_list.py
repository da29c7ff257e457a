"""The user list called directly: filters, order and paging in one service call."""

from __future__ import annotations

from storefront.database import Database
from storefront.kit.pagination import Page, Sort
from storefront.models import Role
from storefront.users import service
from storefront.users.service import UserFilters
from tests.factories import Factory


async def test_list_users_filters_sorts_and_pages(database: Database, factory: Factory) -> None:
    await factory.staff(username="zoe")
    await factory.staff(username="anna")
    await factory.staff(username="mia", is_active=False)
    await factory.customer(username="carl")
    active_staff = UserFilters(role=Role.staff, is_active=True)
    by_username = Sort(field="username", descending=True)

    async with database.read_session() as session:
        first = await service.list_users(session, active_staff, Page(skip=0, limit=1), by_username)
        second = await service.list_users(session, active_staff, Page(skip=1, limit=1), by_username)

    assert ([user.username for user in first.items], first.total) == (["zoe"], 2)
    assert ([user.username for user in second.items], second.total) == (["anna"], 2)
