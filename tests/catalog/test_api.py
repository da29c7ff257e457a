"""The catalog over HTTP: /api/v1/products, as a client sees it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Product
from tests.factories import Actor, Factory

URL = "/api/v1/products"
PRODUCT_KEYS = {
    "id",
    "sku",
    "name",
    "description",
    "price",
    "category",
    "stock",
    "in_stock",
    "image_url",
    "archived",
    "options",
    "variants",
    "created_at",
    "updated_at",
}


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def count_products(database: Database) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(Product)) or 0)


async def actor_for(factory: Factory, role: str) -> Actor:
    makers = {"customer": factory.customer, "staff": factory.staff, "admin": factory.admin}
    return await makers[role]()


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def links(response: Response) -> dict[str, str]:
    """The `Link` header as {rel: url}."""
    found: dict[str, str] = {}
    for part in response.headers["Link"].split(","):
        target, rel = part.split(";")
        found[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip().strip("<>")
    return found


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# --- GET /products ---------------------------------------------------------------------------------------------


async def test_list_is_public_and_shows_the_contract_fields(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Cup", price=Decimal("12.50"), stock=3, sku="CUP-1", category="kitchen")

    response = await client.get(URL)

    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1"
    [item] = response.json()
    assert set(item) == PRODUCT_KEYS
    assert item["id"] == product.id
    assert item["price"] == "12.50"
    assert item["sku"] == "CUP-1"
    assert item["stock"] == 3
    assert item["in_stock"] is True
    assert item["archived"] is False
    assert item["image_url"] is None
    assert item["created_at"].endswith(("Z", "+00:00"))


async def test_empty_catalog_lists_nothing(client: AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


async def test_a_page_past_the_end_is_empty_and_still_counts_the_whole_list(
    client: AsyncClient, factory: Factory
) -> None:
    for _ in range(3):
        await factory.product()
    await factory.product(archived=True)  # not the public's: not counted

    response = await client.get("/api/v1/products", params={"skip": 10, "limit": 2})

    assert ids(response) == []
    assert response.headers["X-Total-Count"] == "3"
    assert query_of(links(response)["last"]) == {"skip": "2", "limit": "2"}
    assert "next" not in links(response)


@pytest.mark.parametrize("role", [None, "customer"])
async def test_list_hides_archived_products_from_the_public(
    client: AsyncClient, factory: Factory, role: str | None
) -> None:
    shown = await factory.product()
    await factory.product(archived=True)
    headers = (await actor_for(factory, role)).headers if role else {}

    response = await client.get(URL, headers=headers)

    assert ids(response) == [shown.id]
    assert response.headers["X-Total-Count"] == "1"


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_list_shows_archived_products_to_staff(client: AsyncClient, factory: Factory, role: str) -> None:
    shown = await factory.product()
    archived = await factory.product(archived=True)
    actor = await actor_for(factory, role)

    response = await client.get(URL, params={"sort": "created_at"}, headers=actor.headers)

    assert sorted(ids(response)) == sorted([shown.id, archived.id])
    assert response.headers["X-Total-Count"] == "2"


async def test_filter_by_category(client: AsyncClient, factory: Factory) -> None:
    cup = await factory.product(category="kitchen")
    await factory.product(category="garden")
    await factory.product(category=None)

    assert ids(await client.get(URL, params={"category": "kitchen"})) == [cup.id]
    assert ids(await client.get(URL, params={"category": "nothing"})) == []


async def test_filter_by_in_stock(client: AsyncClient, factory: Factory) -> None:
    stocked = await factory.product(stock=1)
    empty = await factory.product(stock=0)

    assert ids(await client.get(URL, params={"in_stock": "true"})) == [stocked.id]
    assert ids(await client.get(URL, params={"in_stock": "false"})) == [empty.id]
    assert sorted(ids(await client.get(URL))) == sorted([stocked.id, empty.id])


async def test_filter_by_price_range_is_inclusive_and_exact(client: AsyncClient, factory: Factory) -> None:
    cheap = await factory.product(price=Decimal("0.10"))
    middle = await factory.product(price=Decimal("0.30"))
    dear = await factory.product(price=Decimal("999999.99"))

    def between(**params: str) -> Any:
        return client.get(URL, params={"sort": "price", **params})

    assert ids(await between(min_price="0.10")) == [cheap.id, middle.id, dear.id]
    assert ids(await between(min_price="0.11")) == [middle.id, dear.id]
    assert ids(await between(max_price="0.30")) == [cheap.id, middle.id]
    assert ids(await between(max_price="0.29")) == [cheap.id]
    assert ids(await between(min_price="0.30", max_price="0.30")) == [middle.id]
    assert ids(await between(min_price="999999.99")) == [dear.id]
    assert ids(await between(min_price="1", max_price="0.5")) == []


@pytest.mark.parametrize("params", [{"min_price": "abc"}, {"max_price": "0.001"}, {"min_price": "-1"}])
async def test_bad_price_filter_is_422(client: AsyncClient, params: dict[str, str]) -> None:
    assert_problem(await client.get(URL, params=params), 422, "validation_error")


async def test_text_search_covers_name_and_description_case_insensitively(
    client: AsyncClient, factory: Factory
) -> None:
    by_name = await factory.product(name="Espresso Cup", description="Stoneware")
    by_description = await factory.product(name="Mug", description="Great for ESPRESSO drinkers")
    await factory.product(name="Teapot", description=None)

    response = await client.get(URL, params={"q": "espresso", "sort": "name"})

    assert ids(response) == [by_name.id, by_description.id]
    assert response.headers["X-Total-Count"] == "2"
    assert ids(await client.get(URL, params={"q": "sPrEsSo C"})) == [by_name.id]


@pytest.mark.parametrize(("q", "expected"), [("%", "percent"), ("_", "underscore"), ("\\", "backslash")])
async def test_text_search_treats_like_wildcards_literally(
    client: AsyncClient, factory: Factory, q: str, expected: str
) -> None:
    made = {
        "percent": await factory.product(name="100% cotton", description=None),
        "underscore": await factory.product(name="snake_case", description=None),
        "backslash": await factory.product(name="back\\slash", description=None),
        "plain": await factory.product(name="plain", description=None),
    }

    assert ids(await client.get(URL, params={"q": q})) == [made[expected].id]


async def test_text_search_wildcards_in_the_middle_are_literal(client: AsyncClient, factory: Factory) -> None:
    await factory.product(name="a big b", description=None)
    literal = await factory.product(name="a_b", description=None)

    assert ids(await client.get(URL, params={"q": "a_b"})) == [literal.id]
    assert ids(await client.get(URL, params={"q": "a%b"})) == []


# Four products, created in the order A, B, C, D. Each field (and direction) orders
# them differently, and numbers that sort differently as text, so sorting on the
# wrong column, the wrong way or as text shows.
SORT_ROWS = {
    "A": ("delta", "9.00", 2),
    "B": ("alpha", "100.00", 10),
    "C": ("charlie", "1.50", 9),
    "D": ("bravo", "10.00", 100),
}
SORT_ORDERS = {"created_at": "ABCD", "name": "BDCA", "price": "CADB", "stock": "ACBD"}


@pytest.mark.parametrize("field", list(SORT_ORDERS))
@pytest.mark.parametrize("descending", [False, True])
async def test_sort_on_each_field(client: AsyncClient, factory: Factory, field: str, descending: bool) -> None:
    made = {}
    for label, (name, price, stock) in SORT_ROWS.items():
        made[label] = (await factory.product(name=name, price=Decimal(price), stock=stock)).id
    expected = SORT_ORDERS[field][::-1] if descending else SORT_ORDERS[field]

    response = await client.get(URL, params={"sort": f"-{field}" if descending else field})

    assert ids(response) == [made[label] for label in expected]


async def test_default_sort_is_oldest_first_and_ties_break_by_id(client: AsyncClient, factory: Factory) -> None:
    made = [await factory.product(price=Decimal("5.00")) for _ in range(4)]

    assert ids(await client.get(URL)) == [p.id for p in made]
    assert ids(await client.get(URL, params={"sort": "price"})) == [p.id for p in made]
    assert ids(await client.get(URL, params={"sort": "-price"})) == [p.id for p in reversed(made)]


@pytest.mark.parametrize("sort", ["colour", "-colour", "id", "--price", "price,name", ""])
async def test_unknown_sort_field_is_422(client: AsyncClient, sort: str) -> None:
    assert_problem(await client.get(URL, params={"sort": sort}), 422, "validation_error")


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"skip": "-1"}, {"limit": "ten"}, {"skip": "1.5"}]
)
async def test_paging_out_of_range_is_422(client: AsyncClient, params: dict[str, str]) -> None:
    body = assert_problem(await client.get(URL, params=params), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", next(iter(params))]


async def test_limit_defaults_to_20_and_allows_100(client: AsyncClient, factory: Factory) -> None:
    for _ in range(101):
        await factory.product()

    default = await client.get(URL)
    assert len(default.json()) == 20
    assert default.headers["X-Total-Count"] == "101"
    assert len((await client.get(URL, params={"limit": 100})).json()) == 100
    assert len((await client.get(URL, params={"limit": 1})).json()) == 1


async def test_pages_walk_the_whole_list_without_repeats(client: AsyncClient, factory: Factory) -> None:
    made = [await factory.product() for _ in range(7)]
    seen: list[int] = []
    for skip in range(0, 7, 3):
        response = await client.get(URL, params={"skip": skip, "limit": 3})
        assert response.headers["X-Total-Count"] == "7"
        seen += ids(response)

    assert seen == [p.id for p in made]
    assert ids(await client.get(URL, params={"skip": 7, "limit": 3})) == []


async def test_link_header_on_a_middle_page(client: AsyncClient, factory: Factory) -> None:
    for _ in range(7):
        await factory.product(category="kitchen")

    response = await client.get(URL, params={"skip": 3, "limit": 2, "category": "kitchen", "sort": "-price"})

    found = links(response)
    assert set(found) == {"first", "prev", "next", "last"}
    assert query_of(found["first"]) == {"skip": "0", "limit": "2", "category": "kitchen", "sort": "-price"}
    assert query_of(found["prev"])["skip"] == "1"
    assert query_of(found["next"])["skip"] == "5"
    assert query_of(found["last"])["skip"] == "6"
    # Each link is a working URL for the same query.
    nxt = await client.get(found["next"])
    assert nxt.status_code == 200
    assert len(nxt.json()) == 2


async def test_link_header_on_the_first_and_last_pages(client: AsyncClient, factory: Factory) -> None:
    for _ in range(5):
        await factory.product()

    first = links(await client.get(URL, params={"limit": 2}))
    assert set(first) == {"first", "next", "last"}
    assert query_of(first["next"])["skip"] == "2"
    assert query_of(first["last"])["skip"] == "4"

    last = links(await client.get(URL, params={"skip": 4, "limit": 2}))
    assert set(last) == {"first", "prev", "last"}
    assert query_of(last["prev"])["skip"] == "2"

    single = links(await client.get(URL))
    assert set(single) == {"first", "last"}
    assert query_of(single["last"])["skip"] == "0"


# --- GET /products/{id} ----------------------------------------------------------------------------------------


async def test_read_one_product_with_etag(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(price=Decimal("7.05"))

    response = await client.get(f"{URL}/{product.id}")

    assert response.status_code == 200
    assert set(response.json()) == PRODUCT_KEYS
    assert response.json()["price"] == "7.05"
    etag = response.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    # The same unchanged product keeps its ETag.
    assert (await client.get(f"{URL}/{product.id}")).headers["ETag"] == etag


async def test_if_none_match_gives_304_while_unchanged(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = await client.get(f"{URL}/{product.id}", headers={"If-None-Match": header})
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["ETag"] == etag

    stale = await client.get(f"{URL}/{product.id}", headers={"If-None-Match": '"product-0-v0"'})
    assert stale.status_code == 200
    assert stale.json()["id"] == product.id


async def test_unknown_product_is_404_problem(client: AsyncClient) -> None:
    body = assert_problem(await client.get(f"{URL}/999999"), 404, "product_not_found")
    assert body["type"]
    assert body["title"]
    assert body["detail"]


@pytest.mark.parametrize("role", [None, "customer"])
async def test_archived_product_is_404_to_the_public(client: AsyncClient, factory: Factory, role: str | None) -> None:
    product = await factory.product(archived=True)
    headers = (await actor_for(factory, role)).headers if role else {}

    assert_problem(await client.get(f"{URL}/{product.id}", headers=headers), 404, "product_not_found")


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_archived_product_is_visible_to_staff(client: AsyncClient, factory: Factory, role: str) -> None:
    product = await factory.product(archived=True)
    actor = await actor_for(factory, role)

    response = await client.get(f"{URL}/{product.id}", headers=actor.headers)

    assert response.status_code == 200
    assert response.json()["archived"] is True


async def test_bad_token_on_a_public_read_is_401(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()

    response = await client.get(f"{URL}/{product.id}", headers={"Authorization": "Bearer not-a-token"})

    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- POST /products --------------------------------------------------------------------------------------------

VALID = {"name": "Espresso cup", "price": "12.50"}


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_create_product(client: AsyncClient, factory: Factory, role: str) -> None:
    actor = await actor_for(factory, role)
    body = {
        "name": "Espresso cup",
        "description": "Hand-glazed, 90 ml.",
        "price": "12.5",
        "category": "kitchen",
        "sku": "CUP-ESP-090",
        "stock": 25,
    }

    response = await client.post(URL, json=body, headers=actor.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == PRODUCT_KEYS
    assert created | {"id": 0, "created_at": "", "updated_at": ""} == {
        **body,
        "price": "12.50",
        "id": 0,
        "in_stock": True,
        "image_url": None,
        "archived": False,
        "options": [],
        # One default variant carries the price, stock and SKU.
        "variants": [
            {
                "id": created["variants"][0]["id"],
                "sku": "CUP-ESP-090",
                "options": {},
                "price": "12.50",
                "stock": 25,
                "in_stock": True,
                "archived": False,
                "image_url": None,
            }
        ],
        "created_at": "",
        "updated_at": "",
    }
    assert response.headers["Location"] == f"{URL}/{created['id']}"
    fetched = await client.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert fetched.headers["ETag"] == response.headers["ETag"]
    stored = await factory.reload(Product, created["id"])
    assert stored.price == Decimal("12.50")
    assert stored.stock == 25
    assert stored.archived is False


async def test_create_defaults(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={"name": "Cup", "price": 3}, headers=staff.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["stock"], body["in_stock"], body["description"], body["category"], body["sku"]) == (
        0,
        False,
        None,
        None,
        None,
    )
    assert body["price"] == "3.00"


async def test_create_anonymous_is_401_with_challenge(client: AsyncClient, database: Database) -> None:
    response = await client.post(URL, json=VALID)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await count_products(database) == 0


async def test_create_with_a_bad_token_is_401_invalid_token(client: AsyncClient, database: Database) -> None:
    response = await client.post(URL, json=VALID, headers={"Authorization": "Bearer garbage"})

    assert_problem(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await count_products(database) == 0


async def test_create_as_customer_is_403(client: AsyncClient, factory: Factory, database: Database) -> None:
    customer = await factory.customer()

    assert_problem(await client.post(URL, json=VALID, headers=customer.headers), 403, "forbidden")
    assert await count_products(database) == 0


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("name", "x", True),
        ("name", "x" * 120, True),
        ("name", "x" * 121, False),
        ("name", "", False),
        ("name", "   ", False),
        ("name", None, False),
        ("description", "d" * 2000, True),
        ("description", "d" * 2001, False),
        ("description", None, True),
        ("category", "c" * 50, True),
        ("category", "c" * 51, False),
        ("price", "0.01", True),
        ("price", 0.01, True),
        ("price", "1000000", True),
        ("price", 1000000, True),
        ("price", "1000000.00", True),
        ("price", "1000000.01", False),
        ("price", 1000000.01, False),
        ("price", "0", False),
        ("price", 0, False),
        ("price", "0.00", False),
        ("price", "-1.00", False),
        ("price", "12.345", False),
        ("price", 12.345, False),
        ("price", "0.001", False),
        ("price", "NaN", False),
        ("price", "Infinity", False),
        ("price", "twelve", False),
        ("price", "1e2", False),  # a money string is digits with at most two decimals
        ("price", " 12.50", False),
        ("price", None, False),
        ("price", True, False),
        ("stock", 0, True),
        ("stock", -1, False),
        ("stock", None, False),
        ("stock", 1.5, False),
        ("stock", 3.0, True),  # JSON has one number type: 3.0 is the integer 3
        ("stock", True, False),
        ("stock", "3", False),
        ("stock", 2_000_000_000, True),
        ("stock", 2_000_000_001, False),
        ("sku", "A-1_b.2", True),
        ("sku", "", False),
        ("sku", "has space", False),
        ("sku", "s" * 65, False),
    ],
)
async def test_create_validation_limits(
    client: AsyncClient, factory: Factory, database: Database, field: str, value: Any, ok: bool
) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={**VALID, field: value}, headers=staff.headers)

    if ok:
        assert response.status_code == 201, response.text
        assert await count_products(database) == 1
    else:
        body = assert_problem(response, 422, "validation_error")
        assert any(field in error["loc"] for error in body["errors"]), body
        assert await count_products(database) == 0


@pytest.mark.parametrize("name", [" ", "   ", "\t\n", "\u3000", "\x1c", "\ufeff"])
async def test_create_with_a_blank_name_is_422_and_creates_nothing(
    client: AsyncClient, factory: Factory, database: Database, name: str
) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={**VALID, "name": name}, headers=staff.headers)

    body = assert_problem(response, 422, "validation_error")
    assert [(error["loc"], error["msg"]) for error in body["errors"]] == [
        (["body", "name"], "Value error, may not be blank")
    ]
    assert await count_products(database) == 0


async def test_create_strips_whitespace_around_text(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    body = {**VALID, "name": "  Blue shirt  ", "description": "\tCotton, blue.\n", "category": " clothes "}

    response = await client.post(URL, json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["description"], created["category"]) == ("Blue shirt", "Cotton, blue.", "clothes")
    stored = await factory.reload(Product, created["id"])
    assert (stored.name, stored.description, stored.category) == ("Blue shirt", "Cotton, blue.", "clothes")


@pytest.mark.parametrize("name", ["x" * 120 + " ", " " + "x" * 120, " " + "x" * 119 + " ", "x" * 118 + " " * 3])
async def test_create_counts_the_length_of_the_name_as_sent(
    client: AsyncClient, factory: Factory, database: Database, name: str
) -> None:
    # 121 characters or more were sent, though no more than 120 are left once stripped.
    staff = await factory.staff()

    response = await client.post(URL, json={**VALID, "name": name}, headers=staff.headers)

    body = assert_problem(response, 422, "validation_error")
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [(["body", "name"], "string_too_long")]
    assert await count_products(database) == 0


async def test_create_takes_a_padded_name_of_at_most_the_maximum(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={**VALID, "name": " " + "x" * 118 + " "}, headers=staff.headers)

    assert response.status_code == 201, response.text
    stored = await factory.reload(Product, response.json()["id"])
    assert stored.name == "x" * 118


async def test_create_missing_required_fields_is_422(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    body = assert_problem(await client.post(URL, json={}, headers=staff.headers), 422, "validation_error")

    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "price")}


@pytest.mark.parametrize(
    "extra",
    [
        {"id": 99},
        {"archived": True},
        {"in_stock": True},
        {"image_url": "http://evil"},
        {"version": 7},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"colour": "red"},
    ],
)
async def test_create_with_unknown_fields_is_422_and_creates_nothing(
    client: AsyncClient, factory: Factory, database: Database, extra: dict[str, Any]
) -> None:
    staff = await factory.staff()

    body = assert_problem(await client.post(URL, json=VALID | extra, headers=staff.headers), 422, "validation_error")

    assert [error["loc"] for error in body["errors"]] == [["body", next(iter(extra))]]
    assert await count_products(database) == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"name=Cup&price=1", "application/x-www-form-urlencoded"),
        (b'{"name": "Cup", "price": "1.00"}', "text/plain"),
        (b'{"name": "Cup", "price": "1.00"}', None),
    ],
)
async def test_create_with_a_non_json_body_is_415(
    client: AsyncClient, factory: Factory, database: Database, content: bytes, content_type: str | None
) -> None:
    staff = await factory.staff()
    headers = staff.headers | ({"Content-Type": content_type} if content_type else {})

    response = await client.post(URL, content=content, headers=headers)

    assert_problem(response, 415, "unsupported_media_type")
    assert await count_products(database) == 0


async def test_create_with_malformed_json_is_422(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    headers = staff.headers | {"Content-Type": "application/json"}

    assert_problem(await client.post(URL, content=b'{"name": ', headers=headers), 422, "validation_error")
    assert await count_products(database) == 0


async def test_create_with_a_taken_sku_is_409(client: AsyncClient, factory: Factory, database: Database) -> None:
    await factory.product(sku="CUP-1")
    staff = await factory.staff()

    assert_problem(await client.post(URL, json=VALID | {"sku": "CUP-1"}, headers=staff.headers), 409, "sku_taken")
    assert await count_products(database) == 1


async def test_sku_of_an_archived_product_stays_taken(client: AsyncClient, factory: Factory) -> None:
    await factory.product(sku="OLD-1", archived=True)
    staff = await factory.staff()

    assert_problem(await client.post(URL, json=VALID | {"sku": "OLD-1"}, headers=staff.headers), 409, "sku_taken")


async def test_concurrent_creates_with_one_sku_make_one_product(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()

    responses = await asyncio.gather(
        *(client.post(URL, json=VALID | {"sku": "RACE-1"}, headers=staff.headers) for _ in range(10))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses if r.status_code not in (201, 409)]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "sku_taken")
    assert await count_products(database) == 1


# --- money ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("0.10", "0.10"),
        (0.1, "0.10"),
        ("0.20", "0.20"),
        ("0.30", "0.30"),
        (0.3, "0.30"),
        ("1.1", "1.10"),
        ("19.99", "19.99"),
        (19.99, "19.99"),
        ("123456.78", "123456.78"),
        ("999999.99", "999999.99"),
        (999999.99, "999999.99"),
        ("1000000", "1000000.00"),
        (7, "7.00"),
    ],
)
async def test_money_is_exact_and_shown_with_two_decimals(
    client: AsyncClient, factory: Factory, sent: Any, shown: str
) -> None:
    staff = await factory.staff()

    created = await client.post(URL, json={"name": "Cup", "price": sent}, headers=staff.headers)

    assert created.status_code == 201, created.text
    assert created.json()["price"] == shown
    fetched = await client.get(created.headers["Location"])
    assert fetched.json()["price"] == shown
    stored = await factory.reload(Product, created.json()["id"])
    assert stored.price == Decimal(shown)


async def test_prices_add_up_exactly(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    for price in ("0.10", "0.20"):
        response = await client.post(URL, json={"name": f"P {price}", "price": price}, headers=staff.headers)
        assert response.status_code == 201

    listed = (await client.get(URL, params={"sort": "price"})).json()

    assert [item["price"] for item in listed] == ["0.10", "0.20"]
    # A float would give 0.30000000000000004.
    assert sum(Decimal(item["price"]) for item in listed) == Decimal("0.30")
    assert str(sum(Decimal(item["price"]) for item in listed)) == "0.30"


async def test_float_noise_in_a_price_is_refused(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={"name": "Cup", "price": 0.1 + 0.2}, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert await count_products(database) == 0


# --- PUT /products/{id} ----------------------------------------------------------------------------------------

FULL = {
    "name": "Teapot",
    "description": "Cast iron",
    "price": "45.00",
    "category": "kitchen",
    "sku": "POT-1",
    "stock": 4,
}


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_put_replaces_every_field(client: AsyncClient, factory: Factory, role: str) -> None:
    product = await factory.product()
    actor = await actor_for(factory, role)

    response = await client.put(f"{URL}/{product.id}", json=FULL, headers=actor.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in FULL} == FULL
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.price, stored.sku, stored.stock) == ("Teapot", Decimal("45.00"), "POT-1", 4)


async def test_put_clears_optional_fields_left_out(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(sku="OLD", category="kitchen", description="old", stock=9)
    staff = await factory.staff()

    response = await client.put(f"{URL}/{product.id}", json={"name": "Bare", "price": 2}, headers=staff.headers)

    assert response.status_code == 200, response.text
    stored = await factory.reload(Product, product.id)
    assert (stored.sku, stored.category, stored.description, stored.stock) == (None, None, None, 0)
    assert stored.name == "Bare"


async def test_put_requires_the_required_fields(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Keep")
    staff = await factory.staff()

    response = await client.put(f"{URL}/{product.id}", json={"name": "No price"}, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert (await factory.reload(Product, product.id)).name == "Keep"


async def test_put_refuses_a_blank_name_and_changes_nothing(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Keep", description="Kept")
    staff = await factory.staff()

    response = await client.put(f"{URL}/{product.id}", json={"name": " \t ", "price": "1.00"}, headers=staff.headers)

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in body["errors"]] == [["body", "name"]]
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.description) == ("Keep", "Kept")


async def test_put_changes_the_etag(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    staff = await factory.staff()
    before = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    response = await client.put(f"{URL}/{product.id}", json=FULL, headers=staff.headers | {"If-Match": before})

    assert response.status_code == 200, response.text
    after = response.headers["ETag"]
    assert after != before
    assert (await client.get(f"{URL}/{product.id}")).headers["ETag"] == after
    # The old cached copy is no longer current.
    assert (await client.get(f"{URL}/{product.id}", headers={"If-None-Match": before})).status_code == 200
    assert (await client.get(f"{URL}/{product.id}", headers={"If-None-Match": after})).status_code == 304


async def test_put_with_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Original")
    staff = await factory.staff()
    stale = (await client.get(f"{URL}/{product.id}")).headers["ETag"]
    assert (await client.patch(f"{URL}/{product.id}", json={"stock": 1}, headers=staff.headers)).status_code == 200

    response = await client.put(f"{URL}/{product.id}", json=FULL, headers=staff.headers | {"If-Match": stale})

    assert_problem(response, 412, "precondition_failed")
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.stock) == ("Original", 1)


async def test_put_weak_if_match_never_matches(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Original")
    staff = await factory.staff()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    response = await client.put(f"{URL}/{product.id}", json=FULL, headers=staff.headers | {"If-Match": f"W/{etag}"})

    assert_problem(response, 412, "precondition_failed")
    assert (await factory.reload(Product, product.id)).name == "Original"


async def test_put_with_a_taken_sku_is_409(client: AsyncClient, factory: Factory) -> None:
    await factory.product(sku="POT-1")
    product = await factory.product(sku="MINE", name="Mine")
    staff = await factory.staff()

    assert_problem(await client.put(f"{URL}/{product.id}", json=FULL, headers=staff.headers), 409, "sku_taken")
    stored = await factory.reload(Product, product.id)
    assert (stored.sku, stored.name) == ("MINE", "Mine")


async def test_put_keeping_its_own_sku_is_fine(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(sku="POT-1")
    staff = await factory.staff()

    response = await client.put(f"{URL}/{product.id}", json=FULL, headers=staff.headers)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("extra", [{"archived": False}, {"id": 5}, {"in_stock": True}])
async def test_put_with_unknown_fields_is_422(client: AsyncClient, factory: Factory, extra: dict[str, Any]) -> None:
    product = await factory.product(archived=True, name="Original")
    admin = await factory.admin()

    response = await client.put(f"{URL}/{product.id}", json=FULL | extra, headers=admin.headers)

    assert_problem(response, 422, "validation_error")
    stored = await factory.reload(Product, product.id)
    assert (stored.archived, stored.name) == (True, "Original")


# --- PATCH /products/{id} --------------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(
        name="Cup", description="Blue", price=Decimal("3.00"), category="kitchen", sku="C-1", stock=5
    )
    staff = await factory.staff()

    response = await client.patch(f"{URL}/{product.id}", json={"price": "3.10"}, headers=staff.headers)

    assert response.status_code == 200, response.text
    assert response.json()["price"] == "3.10"
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.description, stored.price, stored.category, stored.sku, stored.stock) == (
        "Cup",
        "Blue",
        Decimal("3.10"),
        "kitchen",
        "C-1",
        5,
    )


async def test_patch_null_clears_optional_fields(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(description="Blue", category="kitchen", sku="C-1")
    staff = await factory.staff()

    response = await client.patch(
        f"{URL}/{product.id}", json={"description": None, "category": None, "sku": None}, headers=staff.headers
    )

    assert response.status_code == 200, response.text
    stored = await factory.reload(Product, product.id)
    assert (stored.description, stored.category, stored.sku) == (None, None, None)


async def test_patch_strips_whitespace_around_text(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Cup", category="kitchen")
    staff = await factory.staff()

    response = await client.patch(
        f"{URL}/{product.id}", json={"name": " Mug\n", "category": "\tdining"}, headers=staff.headers
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["category"]) == ("Mug", "dining")
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.category) == ("Mug", "dining")


@pytest.mark.parametrize("field", ["name", "price", "stock"])
async def test_patch_null_for_a_required_field_is_422(client: AsyncClient, factory: Factory, field: str) -> None:
    product = await factory.product(name="Cup", price=Decimal("3.00"), stock=5)
    staff = await factory.staff()

    response = await client.patch(f"{URL}/{product.id}", json={field: None}, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.price, stored.stock) == ("Cup", Decimal("3.00"), 5)


@pytest.mark.parametrize(
    "body",
    [
        {"price": "1.999"},
        {"price": "0"},
        {"name": ""},
        {"name": " "},
        {"name": "n" * 121},
        {"name": "n" * 120 + " "},
        {"category": "\u3000"},
        {"stock": -1},
        {"archived": True},
    ],
)
async def test_patch_validates_like_create(client: AsyncClient, factory: Factory, body: dict[str, Any]) -> None:
    product = await factory.product(name="Cup", price=Decimal("3.00"), stock=5)
    staff = await factory.staff()

    assert_problem(await client.patch(f"{URL}/{product.id}", json=body, headers=staff.headers), 422, "validation_error")
    stored = await factory.reload(Product, product.id)
    assert (stored.name, stored.price, stored.stock, stored.archived) == ("Cup", Decimal("3.00"), 5, False)


async def test_patch_with_a_taken_sku_is_409(client: AsyncClient, factory: Factory) -> None:
    await factory.product(sku="TAKEN")
    product = await factory.product(sku="MINE")
    staff = await factory.staff()

    response = await client.patch(f"{URL}/{product.id}", json={"sku": "TAKEN"}, headers=staff.headers)

    assert_problem(response, 409, "sku_taken")
    assert (await factory.reload(Product, product.id)).sku == "MINE"


async def test_patch_if_match(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Cup")
    staff = await factory.staff()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    first = await client.patch(f"{URL}/{product.id}", json={"name": "Mug"}, headers=staff.headers | {"If-Match": etag})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag

    second = await client.patch(
        f"{URL}/{product.id}", json={"name": "Bowl"}, headers=staff.headers | {"If-Match": etag}
    )
    assert_problem(second, 412, "precondition_failed")
    assert (await factory.reload(Product, product.id)).name == "Mug"

    third = await client.patch(
        f"{URL}/{product.id}", json={"name": "Bowl"}, headers=staff.headers | {"If-Match": first.headers["ETag"]}
    )
    assert third.status_code == 200, third.text
    assert (await factory.reload(Product, product.id)).name == "Bowl"


async def test_patch_if_match_star_and_lists(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(name="Cup")
    staff = await factory.staff()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    listed = await client.patch(
        f"{URL}/{product.id}", json={"name": "Mug"}, headers=staff.headers | {"If-Match": f'"nope", {etag}'}
    )
    assert listed.status_code == 200, listed.text
    star = await client.patch(f"{URL}/{product.id}", json={"name": "Bowl"}, headers=staff.headers | {"If-Match": "*"})
    assert star.status_code == 200, star.text
    assert (await factory.reload(Product, product.id)).name == "Bowl"


async def test_concurrent_patches_with_one_if_match_let_exactly_one_through(
    client: AsyncClient, factory: Factory
) -> None:
    product = await factory.product(stock=0)
    staff = await factory.staff()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    responses = await asyncio.gather(
        *(
            client.patch(f"{URL}/{product.id}", json={"stock": n}, headers=staff.headers | {"If-Match": etag})
            for n in range(1, 11)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 9, [r.text for r in responses]
    [winner] = [r for r in responses if r.status_code == 200]
    assert (await factory.reload(Product, product.id)).stock == winner.json()["stock"]


async def test_concurrent_patches_without_if_match_all_succeed(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    staff = await factory.staff()

    responses = await asyncio.gather(
        *(client.patch(f"{URL}/{product.id}", json={"name": f"Name {n}"}, headers=staff.headers) for n in range(10))
    )

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    etags = {r.headers["ETag"] for r in responses}
    assert len(etags) == 10
    stored = await factory.reload(Product, product.id)
    assert stored.name in {f"Name {n}" for n in range(10)}


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_writes_need_staff(client: AsyncClient, factory: Factory, method: str) -> None:
    product = await factory.product(name="Cup")
    customer = await factory.customer()
    send = getattr(client, method)

    anonymous = await send(f"{URL}/{product.id}", json=FULL)
    assert_problem(anonymous, 401, "not_authenticated")
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(await send(f"{URL}/{product.id}", json=FULL, headers=customer.headers), 403, "forbidden")
    assert (await factory.reload(Product, product.id)).name == "Cup"


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_writes_to_an_unknown_product_are_404(client: AsyncClient, factory: Factory, method: str) -> None:
    staff = await factory.staff()

    response = await getattr(client, method)(f"{URL}/424242", json=FULL, headers=staff.headers)

    assert_problem(response, 404, "product_not_found")


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_writes_with_a_non_json_body_are_415(client: AsyncClient, factory: Factory, method: str) -> None:
    product = await factory.product(name="Cup")
    staff = await factory.staff()

    response = await getattr(client, method)(
        f"{URL}/{product.id}", content=b"name=Mug", headers=staff.headers | {"Content-Type": "text/plain"}
    )

    assert_problem(response, 415, "unsupported_media_type")
    assert (await factory.reload(Product, product.id)).name == "Cup"


# --- DELETE /products/{id} -------------------------------------------------------------------------------------


async def test_delete_archives(client: AsyncClient, factory: Factory, database: Database) -> None:
    product = await factory.product()
    admin = await factory.admin()
    staff = await factory.staff()

    response = await client.delete(f"{URL}/{product.id}", headers=admin.headers)

    assert response.status_code == 204
    assert response.content == b""
    stored = await factory.reload(Product, product.id)
    assert stored is not None
    assert stored.archived is True
    assert await count_products(database) == 1
    assert_problem(await client.get(f"{URL}/{product.id}"), 404, "product_not_found")
    assert ids(await client.get(URL)) == []
    seen = await client.get(f"{URL}/{product.id}", headers=staff.headers)
    assert seen.status_code == 200
    assert seen.json()["archived"] is True


async def test_delete_needs_admin(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    staff = await factory.staff()
    customer = await factory.customer()

    assert_problem(await client.delete(f"{URL}/{product.id}", headers=staff.headers), 403, "forbidden")
    assert_problem(await client.delete(f"{URL}/{product.id}", headers=customer.headers), 403, "forbidden")
    anonymous = await client.delete(f"{URL}/{product.id}")
    assert_problem(anonymous, 401, "not_authenticated")
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert (await factory.reload(Product, product.id)).archived is False


async def test_delete_twice_keeps_it_archived(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    admin = await factory.admin()

    assert (await client.delete(f"{URL}/{product.id}", headers=admin.headers)).status_code == 204
    assert (await client.delete(f"{URL}/{product.id}", headers=admin.headers)).status_code == 204
    assert (await factory.reload(Product, product.id)).archived is True


async def test_staff_can_still_edit_an_archived_product(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(archived=True, stock=1)
    staff = await factory.staff()
    customer = await factory.customer()

    edited = await client.patch(f"{URL}/{product.id}", json={"stock": 3}, headers=staff.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["archived"] is True
    # A customer gets 403 before any lookup; an anonymous reader only sees 404.
    assert_problem(
        await client.patch(f"{URL}/{product.id}", json={"stock": 0}, headers=customer.headers), 403, "forbidden"
    )
    assert (await factory.reload(Product, product.id)).stock == 3


async def test_delete_unknown_is_404(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()

    assert_problem(await client.delete(f"{URL}/424242", headers=admin.headers), 404, "product_not_found")


async def test_delete_with_a_stale_if_match_is_412(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    admin = await factory.admin()
    stale = (await client.get(f"{URL}/{product.id}")).headers["ETag"]
    assert (await client.patch(f"{URL}/{product.id}", json={"stock": 1}, headers=admin.headers)).status_code == 200

    response = await client.delete(f"{URL}/{product.id}", headers=admin.headers | {"If-Match": stale})

    assert_problem(response, 412, "precondition_failed")
    assert (await factory.reload(Product, product.id)).archived is False


async def test_delete_with_a_current_if_match(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    admin = await factory.admin()
    etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    response = await client.delete(f"{URL}/{product.id}", headers=admin.headers | {"If-Match": etag})

    assert response.status_code == 204
    assert (await factory.reload(Product, product.id)).archived is True


# --- POST /products/{id}/stock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "delta", "end"), [(5, 3, 8), (5, -2, 3), (5, -5, 0), (0, 0, 0)])
async def test_adjust_stock(client: AsyncClient, factory: Factory, start: int, delta: int, end: int) -> None:
    product = await factory.product(stock=start)
    staff = await factory.staff()
    before = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    response = await client.post(f"{URL}/{product.id}/stock", json={"delta": delta}, headers=staff.headers)

    assert response.status_code == 200, response.text
    assert response.json()["stock"] == end
    assert response.json()["in_stock"] is (end > 0)
    assert (await factory.reload(Product, product.id)).stock == end
    fetched = await client.get(f"{URL}/{product.id}")
    assert response.headers["ETag"] == fetched.headers["ETag"]
    if delta:
        assert response.headers["ETag"] != before


@pytest.mark.parametrize(("start", "delta"), [(5, -6), (0, -1)])
async def test_stock_below_zero_is_409(client: AsyncClient, factory: Factory, start: int, delta: int) -> None:
    product = await factory.product(stock=start)
    admin = await factory.admin()

    response = await client.post(f"{URL}/{product.id}/stock", json={"delta": delta}, headers=admin.headers)

    body = assert_problem(response, 409, "insufficient_stock")
    assert body["product_ids"] == [product.id]
    assert (await factory.reload(Product, product.id)).stock == start


@pytest.mark.parametrize(
    ("start", "delta"), [(2_000_000_000, 1), (2_000_000_000, 2_000_000_000), (1, 1_999_999_999 + 1)]
)
async def test_stock_above_the_maximum_is_409_and_unchanged(
    client: AsyncClient, factory: Factory, start: int, delta: int
) -> None:
    # The largest delta on the largest stock overflows a 32-bit column: refused, not a 500.
    product = await factory.product(stock=start)
    staff = await factory.staff()

    response = await client.post(f"{URL}/{product.id}/stock", json={"delta": delta}, headers=staff.headers)

    body = assert_problem(response, 409, "stock_limit_exceeded")
    assert body["product_ids"] == [product.id]
    assert (await factory.reload(Product, product.id)).stock == start


async def test_stock_may_reach_the_maximum_exactly(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=0)
    staff = await factory.staff()

    response = await client.post(f"{URL}/{product.id}/stock", json={"delta": 2_000_000_000}, headers=staff.headers)

    assert response.status_code == 200, response.text
    assert (await factory.reload(Product, product.id)).stock == 2_000_000_000


async def test_stock_adjustment_needs_staff(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=5)
    customer = await factory.customer()

    anonymous = await client.post(f"{URL}/{product.id}/stock", json={"delta": -1})
    assert_problem(anonymous, 401, "not_authenticated")
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    forbidden = await client.post(f"{URL}/{product.id}/stock", json={"delta": -1}, headers=customer.headers)
    assert_problem(forbidden, 403, "forbidden")
    assert (await factory.reload(Product, product.id)).stock == 5


async def test_stock_of_an_unknown_product_is_404(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    response = await client.post(f"{URL}/424242/stock", json={"delta": 1}, headers=staff.headers)

    assert_problem(response, 404, "product_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"delta": 1.5},
        {"delta": "lots"},
        {"delta": None},
        {"delta": True},
        {"delta": "1"},
        {"delta": 2_000_000_001},
        {"delta": 1, "stock": 99},
        {"stock": 99},
    ],
)
async def test_bad_stock_adjustment_is_422(client: AsyncClient, factory: Factory, body: dict[str, Any]) -> None:
    product = await factory.product(stock=5)
    staff = await factory.staff()

    response = await client.post(f"{URL}/{product.id}/stock", json=body, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert (await factory.reload(Product, product.id)).stock == 5


async def test_stock_with_a_non_json_body_is_415(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=5)
    staff = await factory.staff()

    response = await client.post(
        f"{URL}/{product.id}/stock", content=b"delta=-1", headers=staff.headers | {"Content-Type": "text/plain"}
    )

    assert_problem(response, 415, "unsupported_media_type")
    assert (await factory.reload(Product, product.id)).stock == 5


async def test_concurrent_stock_takes_never_oversell(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=10)
    staff = await factory.staff()

    responses = await asyncio.gather(
        *(client.post(f"{URL}/{product.id}/stock", json={"delta": -1}, headers=staff.headers) for _ in range(30))
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10, [r.text for r in responses if r.status_code not in (200, 409)]
    assert statuses.count(409) == 20
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "insufficient_stock")
    # Each success saw a distinct stock level on its way down.
    assert sorted(r.json()["stock"] for r in responses if r.status_code == 200) == list(range(10))
    assert (await factory.reload(Product, product.id)).stock == 0


async def test_concurrent_stock_adds_and_takes_balance(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=50)
    staff = await factory.staff()
    deltas = [5, -3] * 10

    responses = await asyncio.gather(
        *(client.post(f"{URL}/{product.id}/stock", json={"delta": d}, headers=staff.headers) for d in deltas)
    )

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert (await factory.reload(Product, product.id)).stock == 50 + sum(deltas)


async def test_edits_racing_stock_adjustments_all_succeed(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product(stock=100)
    staff = await factory.staff()
    edits = [client.patch(f"{URL}/{product.id}", json={"name": f"Name {n}"}, headers=staff.headers) for n in range(8)]
    takes = [client.post(f"{URL}/{product.id}/stock", json={"delta": -1}, headers=staff.headers) for _ in range(8)]

    responses = await asyncio.gather(*(c for pair in zip(edits, takes, strict=True) for c in pair))

    assert [r.status_code for r in responses] == [200] * 16, [r.text for r in responses if r.status_code != 200]
    assert (await factory.reload(Product, product.id)).stock == 92


async def test_link_header_keeps_the_lists_own_parameters_only(client: AsyncClient, factory: Factory) -> None:
    for _ in range(3):
        await factory.product(category="kitchen")
    junk = "x" * 3000
    response = await client.get("/api/v1/products", params={"category": "kitchen", "limit": 1, "noise": junk, "": junk})
    assert response.status_code == 200
    link = response.headers["Link"]
    assert "category=kitchen" in link
    assert "noise" not in link
    assert junk not in link
    assert len(link) < 1000
