"""The benchmark's second yardstick: the same endpoints written the ordinary way.

A plain FastAPI app over a copy of Storefront's seeded database: SQLAlchemy
Core on the same driver (aiosqlite or asyncpg), PyJWT verifying the access
tokens Storefront issues (same SECRET_KEY), Pydantic response models. It
answers `GET /health`, `GET /api/v1/products/{id}`, the product list with
`X-Total-Count`, `GET /api/v1/users/me` and `POST /api/v1/orders` with the JSON
Storefront sends. What it leaves out is what Storefront's ratio to it measures:
no login-session check (a token's signature and expiry suffice), no rate limits,
metrics, logs, request ids, security headers, idempotency keys, outbox, events,
cache or Unicode `lower()` on SQLite.

    DATABASE_URL=sqlite+aiosqlite:///copy.db SECRET_KEY=... .venv/bin/python bench/plain_app.py --port 8200
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field, PlainSerializer
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    RowMapping,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

DATABASE_URL = os.environ["DATABASE_URL"]
SECRET_KEY = os.environ["SECRET_KEY"]
CURRENCY = "EUR"
ZERO = Decimal("0.00")
PAYMENT_DAYS = timedelta(days=7)  # MANUAL_PAYMENT_DAYS

# --- tables: the columns these endpoints use, as Storefront's migrations made them ---------------

metadata = MetaData()
MONEY = Numeric(12, 2)
TIMESTAMP = DateTime(timezone=True)
products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120)),
    Column("description", Text),
    Column("price", MONEY),
    Column("category", String(50)),
    Column("stock", Integer),
    Column("image_key", String(255)),
    Column("archived", Boolean),
    Column("version", Integer),
    Column("created_at", TIMESTAMP),
    Column("updated_at", TIMESTAMP),
)
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320)),
    Column("username", String(50)),
    Column("full_name", String(200)),
    Column("role", String(20)),
    Column("is_active", Boolean),
    Column("version", Integer),
    Column("created_at", TIMESTAMP),
)
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("status", String(20)),
    Column("subtotal", MONEY),
    Column("total", MONEY),
    Column("currency", String(3)),
    Column("discount_code", Text),
    Column("discount_total", MONEY),
    Column("shipping_method", Text),
    Column("shipping_total", MONEY),
    Column("tax_total", MONEY),
    Column("refunded_total", MONEY),
    Column("shipping_address", JSON),  # a structured address, as Storefront keeps it
    Column("note", Text),
    Column("payment_due_at", TIMESTAMP),
    Column("version", Integer),
    Column("created_at", TIMESTAMP),
    Column("updated_at", TIMESTAMP),
)
variants = Table(
    "product_variants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer),
    Column("sku", String(64)),
    Column("options", JSON),
    Column("price", MONEY),
    Column("stock", Integer),
    Column("archived", Boolean),
    Column("image_key", String(255)),
    Column("position", Integer),
    Column("version", Integer),
    Column("updated_at", TIMESTAMP),
)
options = Table(
    "product_options",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer),
    Column("position", Integer),
    Column("name", String(50)),
    Column("values", JSON),
)
order_items = Table(
    "order_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer),
    Column("product_id", Integer),
    Column("variant_id", Integer),
    Column("sku", String(64)),
    Column("options", JSON),
    Column("name", String(120)),
    Column("unit_price", MONEY),
    Column("quantity", Integer),
    Column("line_total", MONEY),
    Column("discount", MONEY),
    Column("tax", MONEY),
)
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer),
    Column("provider", String(20)),
    Column("status", String(20)),
    Column("amount", MONEY),
    Column("currency", String(3)),
    Column("instructions", Text),
    Column("client_secret", String(255)),
    Column("refunded_total", MONEY),
    Column("created_at", TIMESTAMP),
    Column("updated_at", TIMESTAMP),
)

# --- the engine: the pool and SQLite settings Storefront uses, nothing more ----------------------

if DATABASE_URL.startswith("sqlite"):
    engine = create_async_engine(DATABASE_URL, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The same journal and durability as Storefront's, so a write costs the same.
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

else:
    engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=10)


async def connection() -> AsyncIterator[AsyncConnection]:
    """One connection per request; closing it rolls back whatever was not committed."""
    async with engine.connect() as conn:
        yield conn


Conn = Annotated[AsyncConnection, Depends(connection)]
bearer = HTTPBearer(auto_error=False)


async def optional_user(
    conn: Conn, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> RowMapping | None:
    """The caller a valid access token names; no token, no user."""
    if credentials is None:
        return None
    try:
        claims = jwt.decode(credentials.credentials, SECRET_KEY, algorithms=["HS256"], options={"require": ["sub"]})
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"}) from exc
    user = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
    if user is None or not user["is_active"]:
        raise HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return user


async def current_user(user: Annotated[RowMapping | None, Depends(optional_user)]) -> RowMapping:
    if user is None:
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return user


OptionalUser = Annotated[RowMapping | None, Depends(optional_user)]
CurrentUser = Annotated[RowMapping, Depends(current_user)]

# --- schemas: the JSON Storefront sends ----------------------------------------------------------

Money = Annotated[Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str)]
# SQLite keeps no offset: its timestamps are UTC, said as such.
Timestamp = Annotated[datetime, AfterValidator(lambda value: value if value.tzinfo else value.replace(tzinfo=UTC))]


class OptionRead(BaseModel):
    name: str
    values: list[str]


class VariantRead(BaseModel):
    id: int
    sku: str | None
    options: dict[str, str]
    price: Money
    stock: int
    in_stock: bool
    archived: bool
    image_url: str | None


class ProductRead(BaseModel):
    id: int
    sku: str | None
    name: str
    description: str | None
    price: Money
    category: str | None
    stock: int
    in_stock: bool
    image_url: str | None
    archived: bool
    options: list[OptionRead]
    variants: list[VariantRead]
    created_at: Timestamp
    updated_at: Timestamp


class UserRead(BaseModel):
    id: int
    email: str
    username: str
    full_name: str | None
    role: str
    is_active: bool
    created_at: Timestamp


class OrderLine(BaseModel):
    product_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=1000)


class OrderCreate(BaseModel):
    items: list[OrderLine] = Field(min_length=1, max_length=50)
    shipping_address: dict[str, str | None] | None = None
    note: str | None = None


class OrderItemRead(BaseModel):
    product_id: int
    variant_id: int
    sku: str | None
    name: str
    options: dict[str, str]
    unit_price: Money
    quantity: int
    line_total: Money
    discount: Money
    tax: Money


class PaymentRead(BaseModel):
    provider: str
    status: str
    instructions: str | None
    client_secret: str | None


class OrderRead(BaseModel):
    id: int
    user_id: int
    status: str
    items: list[OrderItemRead]
    subtotal: Money
    discount_code: str | None
    discount_total: Money
    shipping_method: str | None
    shipping_total: Money
    tax_total: Money
    total: Money
    refunded_total: Money
    currency: str
    shipping_address: dict[str, str | None] | None
    note: str | None
    payment_due_at: Timestamp
    payment: PaymentRead
    created_at: Timestamp
    updated_at: Timestamp


def product_out(row: RowMapping, parts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    image_url = f"/api/v1/products/{row['id']}/image" if row["image_key"] else None
    on_sale = parts["variants"]
    sku = on_sale[0]["sku"] if len(on_sale) == 1 else None
    return {**row, "sku": sku, "in_stock": row["stock"] > 0, "image_url": image_url, **parts}


async def parts_of(conn: AsyncConnection, product_ids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Each product's options and variants for sale, in their order: two queries for any number of products."""
    found: dict[int, dict[str, list[dict[str, Any]]]] = {pid: {"options": [], "variants": []} for pid in product_ids}
    option_rows = await conn.execute(
        select(options.c.product_id, options.c.name, options.c["values"])
        .where(options.c.product_id.in_(product_ids))
        .order_by(options.c.product_id, options.c.position)
    )
    for row in option_rows.mappings():
        found[row["product_id"]]["options"].append({"name": row["name"], "values": row["values"]})
    variant_rows = await conn.execute(
        select(variants)
        .where(variants.c.product_id.in_(product_ids), variants.c.archived.is_(False))
        .order_by(variants.c.product_id, variants.c.position, variants.c.id)
    )
    for row in variant_rows.mappings():
        image = f"/api/v1/products/{row['product_id']}/variants/{row['id']}/image" if row["image_key"] else None
        found[row["product_id"]]["variants"].append({**row, "in_stock": row["stock"] > 0, "image_url": image})
    return found


# --- routes ---------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(title="Plain reference app", lifespan=lifespan)
SORTABLE = {"name": products.c.name, "price": products.c.price, "created_at": products.c.created_at}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/products", response_model=list[ProductRead])
async def list_products(
    conn: Conn,
    response: Response,
    category: str | None = None,
    in_stock: bool | None = None,
    sort: Annotated[str, Query(pattern="^-?(name|price|created_at)$")] = "created_at",
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    query = select(products).where(products.c.archived.is_(False))
    if category is not None:
        query = query.where(func.lower(products.c.category) == category.lower())
    if in_stock is not None:
        query = query.where(products.c.stock > 0 if in_stock else products.c.stock == 0)
    total = await conn.scalar(select(func.count()).select_from(query.subquery()))
    column, descending = SORTABLE[sort.lstrip("-")], sort.startswith("-")
    order = [column.desc(), products.c.id.desc()] if descending else [column, products.c.id]
    rows = await conn.execute(query.order_by(*order).offset(skip).limit(limit))
    response.headers["X-Total-Count"] = str(total)
    page = list(rows.mappings())
    parts = await parts_of(conn, [row["id"] for row in page])
    return [product_out(row, parts[row["id"]]) for row in page]


@app.get("/api/v1/products/{product_id}", response_model=ProductRead)
async def read_product(product_id: int, user: OptionalUser, conn: Conn, response: Response) -> dict[str, Any]:
    row = (await conn.execute(select(products).where(products.c.id == product_id))).mappings().first()
    staff = user is not None and user["role"] in ("staff", "admin")
    if row is None or (row["archived"] and not staff):
        raise HTTPException(404, "Product not found")
    response.headers["ETag"] = f'"product-{row["id"]}-v{row["version"]}"'
    return product_out(row, (await parts_of(conn, [product_id]))[product_id])


@app.get("/api/v1/users/me", response_model=UserRead)
async def read_me(user: CurrentUser, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = f'"user-{user["id"]}-v{user["version"]}"'
    return dict(user)


@app.post("/api/v1/orders", status_code=201, response_model=OrderRead)
async def place_order(body: OrderCreate, user: CurrentUser, conn: Conn, response: Response) -> dict[str, Any]:
    """Take the stock of every line or none, then record the order at today's prices, in one transaction."""
    wanted = {line.product_id: line.quantity for line in body.items}
    if len(wanted) != len(body.items):
        raise HTTPException(422, "Each product may appear on one line only")
    now = datetime.now(UTC)
    sold: dict[int, Any] = {}
    # Ascending ids: two orders lock rows in the same order and cannot deadlock.
    for product_id in sorted(wanted):
        taken = await conn.execute(
            update(products)
            .where(
                products.c.id == product_id,
                products.c.archived.is_(False),
                products.c.stock >= wanted[product_id],
            )
            .values(stock=products.c.stock - wanted[product_id], version=products.c.version + 1, updated_at=now)
        )
        if taken.rowcount == 0:
            raise HTTPException(409, f"Product {product_id} is unknown or out of stock")
        # A product bought by its id has one variant: its stock goes too.
        variant = await conn.execute(
            update(variants)
            .where(
                variants.c.product_id == product_id,
                variants.c.archived.is_(False),
                variants.c.stock >= wanted[product_id],
            )
            .values(stock=variants.c.stock - wanted[product_id], version=variants.c.version + 1, updated_at=now)
            .returning(variants.c.id, variants.c.sku)
        )
        sold[product_id] = variant.first()
        if sold[product_id] is None:
            raise HTTPException(409, f"Product {product_id} has no variant in stock to sell by its id")
    prices = select(products.c.id, products.c.name, products.c.price).where(products.c.id.in_(wanted))
    catalog = {row.id: row for row in await conn.execute(prices)}
    items = [
        {
            "product_id": product_id,
            "variant_id": sold[product_id].id,
            "sku": sold[product_id].sku,
            "options": {},
            "name": catalog[product_id].name,
            "unit_price": catalog[product_id].price,
            "quantity": quantity,
            "line_total": catalog[product_id].price * quantity,
            "discount": ZERO,
            "tax": ZERO,
        }
        for product_id, quantity in wanted.items()
    ]
    subtotal = sum((item["line_total"] for item in items), start=Decimal("0.00"))
    order = {
        "user_id": user["id"],
        "status": "pending",
        "subtotal": subtotal,
        "discount_code": None,
        "discount_total": ZERO,
        "shipping_method": None,
        "shipping_total": ZERO,
        "tax_total": ZERO,
        "total": subtotal,
        "refunded_total": ZERO,
        "currency": CURRENCY,
        "shipping_address": body.shipping_address,
        "note": body.note,
        "payment_due_at": now + PAYMENT_DAYS,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    order_id = await conn.scalar(insert(orders).values(order).returning(orders.c.id))
    await conn.execute(insert(order_items), [{"order_id": order_id, **item} for item in items])
    # A bank transfer to wait for, as Storefront's manual provider records it.
    payment = {
        "provider": "manual",
        "status": "requires_action",
        "instructions": f"Please pay {subtotal} {CURRENCY} by bank transfer, quoting ORDER-{order_id}.",
        "client_secret": None,
    }
    await conn.execute(
        insert(payments).values(
            order_id=order_id, amount=subtotal, currency=CURRENCY, refunded_total=ZERO, created_at=now,
            updated_at=now, **payment,
        )
    )  # fmt: skip
    await conn.commit()
    response.headers["Location"] = f"/api/v1/orders/{order_id}"
    response.headers["ETag"] = f'"order-{order_id}-v1"'
    return {"id": order_id, **order, "items": items, "payment": payment}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The flags `storefront serve` passes to uvicorn (src/storefront/cli.py); several
    # workers need the app by name, and share uvicorn's one listening socket.
    uvicorn.run(
        app if args.workers == 1 else "plain_app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=20,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
