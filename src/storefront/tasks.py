"""Work the CLI does outside a request: each opens its own session and commits."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from pydantic import ValidationError

from storefront.config import Settings
from storefront.db import Database
from storefront.errors import AppError
from storefront.models import Product, Role
from storefront.users import service as user_service
from storefront.users.schemas import UserCreate

ADJECTIVES = ["Classic", "Organic", "Handmade", "Compact", "Vintage", "Eco", "Deluxe", "Everyday", "Travel", "Studio"]
NOUNS = ["Mug", "Notebook", "Backpack", "Lamp", "Teapot", "Scarf", "Candle", "Headphones", "Bottle", "Chair"]
CATEGORIES = ["kitchen", "stationery", "bags", "home", "apparel", "audio", "outdoor"]


async def create_admin(settings: Settings, *, email: str, username: str, password: str) -> int:
    try:
        data = UserCreate(email=email, username=username, password=password, role=Role.admin)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    database = Database(settings)
    try:
        async with database.write_session() as session, session.begin():
            user = await user_service.create(session, data, role=Role.admin)
            return user.id
    except AppError as exc:
        raise ValueError(exc.detail) from None
    finally:
        await database.dispose()


async def seed_products(settings: Settings, count: int, advance: Callable[[int], object], batch: int = 500) -> None:
    rng = random.Random(42)  # noqa: S311 - sample data, not secrets
    database = Database(settings)
    try:
        done = 0
        while done < count:
            size = min(batch, count - done)
            async with database.write_session() as session, session.begin():
                session.add_all(_random_product(rng) for _ in range(size))
            done += size
            advance(size)
    finally:
        await database.dispose()


def _random_product(rng: random.Random) -> Product:
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    return Product(
        name=name,
        description=f"A {name.lower()} that people come back for.",
        price=Decimal(rng.randrange(199, 49999)) / 100,
        category=rng.choice(CATEGORIES),
        stock=rng.randrange(0, 200),
        archived=False,
    )
