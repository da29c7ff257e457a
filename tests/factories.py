"""Factories: make users and products straight in the database, fast.

Users get a password hash computed once per run (argon2 costs ~0.1 s a hash),
so a test can make many users and still log in as any of them. Each user comes
logged in: a login session started by the code a login runs (`sessions.start`),
and that session's access token.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from storefront.auth import sessions
from storefront.auth.passwords import CURRENT_HASHER
from storefront.auth.tokens import read_access_token
from storefront.config import Settings
from storefront.database import Database
from storefront.models import Product, Role, User

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


@lru_cache
def _password_hash() -> str:
    return CURRENT_HASHER.hash(PASSWORD)


@dataclass
class Actor:
    user: User
    token: str
    session_id: int

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    async def user(self, role: Role = Role.customer, **fields: Any) -> Actor:
        n = next(_counter)
        values: dict[str, Any] = {
            "email": f"user{n}@example.com",
            "username": f"user{n}",
            "full_name": f"User {n}",
            "role": role,
            "is_active": True,
            "password_hash": _password_hash(),
        } | fields
        async with self.database.write_session() as session, session.begin():
            user = User(**values)
            session.add(user)
            await session.flush()
            pair = await sessions.start(session, self.settings, user, user_agent=None)
        claims = read_access_token(self.settings, pair.access_token)
        assert claims is not None
        return Actor(user, pair.access_token, claims.session_id)

    async def customer(self, **fields: Any) -> Actor:
        return await self.user(Role.customer, **fields)

    async def staff(self, **fields: Any) -> Actor:
        return await self.user(Role.staff, **fields)

    async def admin(self, **fields: Any) -> Actor:
        return await self.user(Role.admin, **fields)

    async def product(self, **fields: Any) -> Product:
        n = next(_counter)
        values: dict[str, Any] = {
            "name": f"Product {n}",
            "description": f"Description of product {n}",
            "price": Decimal("10.00"),
            "category": "general",
            "stock": 10,
            "archived": False,
        } | fields
        async with self.database.write_session() as session, session.begin():
            product = Product(**values)
            session.add(product)
        return product

    async def reload(self, model: type[Any], ident: int) -> Any:
        async with self.database.read_session() as session:
            return await session.get(model, ident)
