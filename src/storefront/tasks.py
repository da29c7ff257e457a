"""Work the CLI does outside a request: each builds the app context and commits units of work."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy import func, insert, select

from storefront import pricing
from storefront.auth import accounts
from storefront.config import Settings
from storefront.context import AppContext
from storefront.errors import AppError
from storefront.kit.storage import Storage, storage_from_settings
from storefront.models import (
    Discount,
    Order,
    OrderItem,
    OrderStatus,
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
from storefront.rules import service as rules
from storefront.rules.schemas import DiscountCreate, ShippingMethodCreate, TaxRateCreate
from storefront.users.schemas import UserCreate

ADJECTIVES = ["Classic", "Organic", "Handmade", "Compact", "Vintage", "Eco", "Deluxe", "Everyday", "Travel", "Studio"]
NOUNS = ["Mug", "Notebook", "Backpack", "Lamp", "Teapot", "Scarf", "Candle", "Headphones", "Bottle", "Chair"]
CATEGORIES = ["kitchen", "stationery", "bags", "home", "apparel", "audio", "outdoor"]
# The last quarter of the products a seed makes are shirts sold in every size and colour; the
# first three quarters have one variant each (so product 1 of a fresh seed is bought by its id).
SHIRTS = ["T-shirt", "Polo shirt", "Hoodie", "Sweatshirt"]
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Black", "White", "Navy"]


async def create_admin(settings: Settings, *, email: str, username: str, password: str) -> int:
    try:
        data = UserCreate(email=email, username=username, password=password, role=Role.admin)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None
    context = AppContext.create(settings)  # publishes what it causes; listens to nothing
    database = context.database
    try:
        async with database.transaction() as session:
            user = await accounts.create(session, data, role=Role.admin)
            return user.id
    except AppError as exc:
        raise ValueError(exc.detail) from None
    finally:
        await context.stop()


async def seed_products(
    settings: Settings, count: int, advance: Callable[[int], object], batch: int = 500, *, images: bool = False
) -> None:
    """Products with random names, prices and stock, the last quarter of them shirts with a
    variant for each size and colour; with `images`, each gets a small PNG in storage."""
    rng = random.Random(42)  # noqa: S311 - sample data, not secrets
    context = AppContext.create(settings)  # publishes what it causes; listens to nothing
    database = context.database
    storage = storage_from_settings(settings) if images else None
    try:
        done = 0
        while done < count:
            size = min(batch, count - done)
            async with database.transaction() as session:
                shirts_from = count - count // 4
                products = [_random_product(rng, shirt=done + n >= shirts_from) for n in range(size)]
                session.add_all(products)
                await session.flush()
                # Cached product pages of a running server would not show them until they expire.
                session.evict(*(product.id for product in products))
                if storage is not None:
                    for product in products:
                        product.image_key = await _store_swatch(storage, product.id, rng)
            done += size
            advance(size)
    finally:
        await context.stop()


async def _store_swatch(storage: Storage, product_id: int, rng: random.Random) -> str:
    key = f"products/{product_id}/seed.png"
    colour = bytes(rng.randrange(256) for _ in range(3))

    async def content() -> AsyncIterator[bytes]:
        yield solid_png(64, 64, colour)

    await storage.put(key, content())
    return key


def solid_png(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG of one colour: enough to show that images flow end to end."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rgb * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _random_product(rng: random.Random, *, shirt: bool) -> Product:
    if shirt:
        return _random_shirt(rng)
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    price, stock = Decimal(rng.randrange(199, 49999)) / 100, rng.randrange(0, 200)
    default = ProductVariant(options={}, option_key=option_key({}), price=price, stock=stock, archived=False)
    return Product(
        name=name,
        description=f"A {name.lower()} that people come back for.",
        price=price,
        category=rng.choice(CATEGORIES),
        stock=stock,
        archived=False,
        options=[],
        variants=[default],
    )


def _random_shirt(rng: random.Random) -> Product:
    """Size x Colour: a variant per combination, the larger sizes a little dearer."""
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(SHIRTS)}"
    base = Decimal(rng.randrange(1299, 5999)) / 100
    variants: list[ProductVariant] = []
    for size_rank, size in enumerate(SIZES):
        for colour in COLOURS:
            chosen = {"Size": size, "Colour": colour}
            price = base + (Decimal(2) if size_rank >= 2 else Decimal(0))
            variants.append(
                ProductVariant(
                    options=chosen,
                    option_key=option_key(chosen),
                    price=price,
                    stock=rng.randrange(0, 40),
                    archived=False,
                    position=len(variants),
                )
            )
    return Product(
        name=name,
        description=f"A {name.lower()} in {len(SIZES)} sizes and {len(COLOURS)} colours.",
        price=min(variant.price for variant in variants),
        category="apparel",
        stock=sum(variant.stock for variant in variants),
        archived=False,
        options=[
            ProductOption(position=0, name="Size", values=SIZES),
            ProductOption(position=1, name="Colour", values=COLOURS),
        ],
        variants=variants,
    )


SEED_PASSWORD = "storefront-demo-password"  # documented sample accounts
FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Donald"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Torvalds", "Perlman"]


async def seed_users(settings: Settings, count: int, advance: Callable[[int], object], batch: int = 1000) -> None:
    """Customers `<first>.<last>.<n>@example.com`, all with the password `SEED_PASSWORD`."""
    from storefront.auth.passwords import hash_password

    rng = random.Random()  # noqa: S311 - sample data, not secrets
    password_hash = await hash_password(SEED_PASSWORD)
    context = AppContext.create(settings)  # publishes what it causes; listens to nothing
    database = context.database
    try:
        async with database.read_session() as session:
            start = int(await session.scalar(select(func.coalesce(func.max(User.id), 0))) or 0)
        done = 0
        while done < count:
            size = min(batch, count - done)
            rows = []
            for n in range(start + done + 1, start + done + size + 1):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                rows.append(
                    {
                        "email": f"{first}.{last}.{n}@example.com".lower(),
                        "username": f"{first}_{last}_{n}".lower(),
                        "full_name": f"{first} {last}",
                        "password_hash": password_hash,
                        "role": Role.customer,
                        "is_active": True,
                    }
                )
            async with database.transaction() as session:
                await session.execute(insert(User), rows)
            done += size
            advance(size)
    finally:
        await context.stop()


# Seeded orders are history without payments or refunds: any status but `refunded`.
SEEDED_STATUSES = [status for status in OrderStatus if status is not OrderStatus.refunded]


async def seed_orders(settings: Settings, count: int, advance: Callable[[int], object], batch: int = 1000) -> None:
    """Orders by random customers for random variants, in every status.

    Seeded orders are history: they do not take stock from the catalog.
    """
    rng = random.Random()  # noqa: S311 - sample data, not secrets
    context = AppContext.create(settings)  # publishes what it causes; listens to nothing
    database = context.database
    try:
        async with database.read_session() as session:
            user_ids = list(await session.scalars(select(User.id).where(User.role == Role.customer)))
            variants = select(
                ProductVariant.id,
                ProductVariant.product_id,
                Product.name,
                ProductVariant.price,
                ProductVariant.sku,
                ProductVariant.options,
            ).join(ProductVariant.product)
            products = list((await session.execute(variants.where(ProductVariant.archived.is_(False)))).all())
        if count and (not user_ids or not products):
            raise ValueError("seed some users and products first (--users N --products N)")
        done = 0
        while done < count:
            size = min(batch, count - done)
            orders, lines = [], []
            for _ in range(size):
                chosen = rng.sample(products, k=min(len(products), rng.randint(1, 4)))
                items = [(p, rng.randint(1, 3)) for p in chosen]
                breakdown = pricing.price([pricing.Line(p.price, q) for p, q in items])
                orders.append(
                    {
                        "user_id": rng.choice(user_ids),
                        "status": rng.choice(SEEDED_STATUSES),
                        "subtotal": breakdown.subtotal,
                        "total": breakdown.total,
                        "currency": settings.currency,
                    }
                )
                lines.append(items)
            async with database.transaction() as session:
                ids = list(await session.scalars(insert(Order).returning(Order.id), orders))
                await session.execute(
                    insert(OrderItem),
                    [
                        {
                            "order_id": order_id,
                            "product_id": p.product_id,
                            "variant_id": p.id,
                            "name": p.name,
                            "sku": p.sku,
                            "options": p.options,
                            "unit_price": p.price,
                            "quantity": q,
                            "line_total": pricing.Line(p.price, q).total,
                        }
                        for order_id, items in zip(ids, lines, strict=True)
                        for p, q in items
                    ],
                )
            done += size
            advance(size)
    finally:
        await context.stop()


# Sample checkout rules: shipping to the EU, the UK and the US, those countries'
# standard VAT rates (sample figures: check them before selling), and three codes.
EU = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]  # fmt: skip
SHIPPING_METHODS = [
    ShippingMethodCreate(
        code="standard", name="Standard delivery", price=Decimal("4.90"), free_over=Decimal("50.00"),
        countries=[*EU, "GB", "US"],
    ),
    ShippingMethodCreate(
        code="express", name="Express delivery", price=Decimal("14.90"),
        countries=["AT", "BE", "DE", "DK", "ES", "FR", "IE", "IT", "LU", "NL", "PT", "SE", "GB", "US"],
    ),
]  # fmt: skip
# The US taxes sales by state, not at one national rate: it has none here.
VAT_RATES = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25", "EE": "24", "ES": "21",
    "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27", "IE": "23", "IT": "22", "LT": "21", "LU": "17",
    "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
    "GB": "20",
}  # fmt: skip
DISCOUNTS = [
    DiscountCreate(code="WELCOME10", kind=DiscountKind.percent, value=Decimal(10), max_uses_per_customer=1),
    DiscountCreate(code="FIVEOFF", kind=DiscountKind.fixed, value=Decimal(5), min_subtotal=Decimal(25)),
    DiscountCreate(
        code="SUMMER25",
        kind=DiscountKind.percent,
        value=Decimal(25),
        starts_at=datetime(2025, 6, 1, tzinfo=UTC),
        ends_at=datetime(2025, 9, 1, tzinfo=UTC),
    ),
]


@dataclass(frozen=True, slots=True)
class SeededRules:
    """How many of each rule a seed added (those already there are left as they are)."""

    shipping_methods: int
    tax_rates: int
    discounts: int


async def seed_rules(settings: Settings) -> SeededRules:
    """The sample shipping methods, tax rates and discount codes that are missing; run it again and nothing changes."""
    context = AppContext.create(settings)  # publishes what it causes; listens to nothing
    try:
        async with context.database.transaction() as session:
            methods = set(await session.scalars(select(ShippingMethod.code_key)))
            countries = set(await session.scalars(select(TaxRate.country)))
            codes = set(await session.scalars(select(Discount.code_key)))
            new_methods = [method for method in SHIPPING_METHODS if code_key(method.code) not in methods]
            new_rates = [TaxRateCreate(country=c, rate=Decimal(r)) for c, r in VAT_RATES.items() if c not in countries]
            new_discounts = [discount for discount in DISCOUNTS if code_key(discount.code) not in codes]
            for method in new_methods:
                await rules.create_shipping_method(session, method)
            for rate in new_rates:
                await rules.create_tax_rate(session, rate)
            for discount in new_discounts:
                await rules.create_discount(session, discount)
        return SeededRules(len(new_methods), len(new_rates), len(new_discounts))
    finally:
        await context.stop()
