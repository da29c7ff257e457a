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

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storefront.auth import sessions
from storefront.auth.passwords import CURRENT_HASHER
from storefront.auth.tokens import read_access_token
from storefront.config import Settings
from storefront.database import Database
from storefront.models import (
    Discount,
    Product,
    ProductOption,
    ProductVariant,
    Role,
    ShippingMethod,
    TaxRate,
    User,
    code_key,
    option_key,
)
from storefront.pricing import DiscountKind

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

    async def product(self, *, sku: str | None = None, **fields: Any) -> Product:
        """A product as `POST /products` makes it: one default variant carrying its price, stock and SKU."""
        n = next(_counter)
        values: dict[str, Any] = {
            "name": f"Product {n}",
            "description": f"Description of product {n}",
            "price": Decimal("10.00"),
            "category": "general",
            "stock": 10,
            "archived": False,
        } | fields
        default = ProductVariant(
            sku=sku, options={}, option_key=option_key({}), price=values["price"], stock=values["stock"], archived=False
        )
        async with self.database.write_session() as session, session.begin():
            product = Product(**values, options=[], variants=[default])
            session.add(product)
        return product

    async def product_with_variants(
        self, options: dict[str, list[str]], variants: list[dict[str, Any]], **fields: Any
    ) -> Product:
        """A product with `options` ({"Size": ["S", "M"]}) and `variants` (each `{"options": {...},
        "stock": n, "price": Decimal, "sku": str, "archived": bool}`); its price and stock follow from them."""
        n = next(_counter)
        made = []
        for position, spec in enumerate(variants):
            chosen = spec["options"]
            archived = spec.get("archived", False)
            made.append(
                ProductVariant(
                    sku=spec.get("sku"),
                    options=chosen,
                    option_key=None if archived else option_key(chosen),
                    price=spec.get("price", Decimal("10.00")),
                    stock=spec.get("stock", 10),
                    archived=archived,
                    position=position,
                )
            )
        active = [variant for variant in made if not variant.archived]
        values: dict[str, Any] = {
            "name": f"Product {n}",
            "description": f"Description of product {n}",
            "category": "general",
            "archived": False,
            "price": min(variant.price for variant in active or made),
            "stock": sum(variant.stock for variant in active),
        } | fields
        async with self.database.write_session() as session, session.begin():
            product = Product(
                **values,
                options=[
                    ProductOption(position=position, name=name, values=list(choices))
                    for position, (name, choices) in enumerate(options.items())
                ],
                variants=made,
            )
            session.add(product)
        return product

    async def discount(self, code: str | None = None, **fields: Any) -> Discount:
        """A discount code, 10 percent off unless told otherwise; `fields` are the model's."""
        code = code or f"CODE{next(_counter)}"
        values: dict[str, Any] = {
            "kind": DiscountKind.percent,
            "value": Decimal(10),
            "active": True,
            "used": 0,
        } | fields
        async with self.database.write_session() as session, session.begin():
            discount = Discount(code=code, code_key=code_key(code), **values)
            session.add(discount)
        return discount

    async def shipping_method(self, code: str | None = None, **fields: Any) -> ShippingMethod:
        """A shipping method at 4.90 to Germany and France unless told otherwise."""
        code = code or f"method{next(_counter)}"
        values: dict[str, Any] = {
            "name": f"Method {code}",
            "price": Decimal("4.90"),
            "countries": ["DE", "FR"],
            "active": True,
        } | fields
        async with self.database.write_session() as session, session.begin():
            method = ShippingMethod(code=code, code_key=code_key(code), **values)
            session.add(method)
        return method

    async def tax_rate(self, country: str = "DE", rate: Decimal = Decimal(19)) -> TaxRate:
        async with self.database.write_session() as session, session.begin():
            tax = TaxRate(country=country, rate=rate)
            session.add(tax)
        return tax

    async def reload(self, model: type[Any], ident: int) -> Any:
        async with self.database.read_session() as session:
            if model is Product:
                query = select(Product).where(Product.id == ident)
                parts = query.options(selectinload(Product.options), selectinload(Product.variants))
                return (await session.scalars(parts)).first()
            return await session.get(model, ident)
