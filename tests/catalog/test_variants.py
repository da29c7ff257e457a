"""Options and variants over HTTP: /api/v1/products/{id}/variants and /options."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from storefront.database import Database
from storefront.models import Event, Product, ProductOption, ProductVariant
from tests.catalog.test_api import assert_problem
from tests.factories import Factory

URL = "/api/v1/products"
SHIRT_OPTIONS = {"Size": ["S", "M", "L"], "Colour": ["Blue", "Red"]}


async def shirt(factory: Factory, **fields: Any) -> Product:
    """A shirt in S/Blue (7 at 20.00), M/Blue (3 at 22.00) and an archived L/Red."""
    return await factory.product_with_variants(
        SHIRT_OPTIONS,
        [
            {"options": {"Size": "S", "Colour": "Blue"}, "stock": 7, "price": Decimal("20.00"), "sku": "TEE-S-B"},
            {"options": {"Size": "M", "Colour": "Blue"}, "stock": 3, "price": Decimal("22.00"), "sku": "TEE-M-B"},
            {"options": {"Size": "L", "Colour": "Red"}, "stock": 9, "archived": True, "sku": "TEE-L-R"},
        ],
        name="Shirt",
        **fields,
    )


async def stored_variants(database: Database, product_id: int) -> list[ProductVariant]:
    async with database.read_session() as session:
        query = select(ProductVariant).where(ProductVariant.product_id == product_id).order_by(ProductVariant.id)
        return list(await session.scalars(query))


async def product_events(database: Database) -> list[Event]:
    async with database.read_session() as session:
        return list(await session.scalars(select(Event).where(Event.type.like("product.%")).order_by(Event.id)))


# --- reading -------------------------------------------------------------------------------------------------


async def test_a_product_shows_its_options_and_variants_for_sale(client: AsyncClient, factory: Factory) -> None:
    product = await shirt(factory)

    body = (await client.get(f"{URL}/{product.id}")).json()

    assert body["options"] == [
        {"name": "Size", "values": ["S", "M", "L"]},
        {"name": "Colour", "values": ["Blue", "Red"]},
    ]
    assert [(v["sku"], v["options"], v["price"], v["stock"], v["in_stock"]) for v in body["variants"]] == [
        ("TEE-S-B", {"Size": "S", "Colour": "Blue"}, "20.00", 7, True),
        ("TEE-M-B", {"Size": "M", "Colour": "Blue"}, "22.00", 3, True),
    ]
    # The product's own figures follow from the variants for sale; a product of several has no SKU.
    assert (body["price"], body["stock"], body["sku"]) == ("20.00", 10, None)


@pytest.mark.parametrize(
    ("role", "skus"), [(None, ["TEE-S-B", "TEE-M-B"]), ("staff", ["TEE-S-B", "TEE-M-B", "TEE-L-R"])]
)
async def test_variant_list_shows_archived_ones_to_staff_only(
    client: AsyncClient, factory: Factory, role: str | None, skus: list[str]
) -> None:
    product = await shirt(factory)
    headers = (await factory.staff()).headers if role else {}

    response = await client.get(f"{URL}/{product.id}/variants", headers=headers)

    assert response.status_code == 200
    assert [variant["sku"] for variant in response.json()] == skus
    assert response.headers["X-Total-Count"] == str(len(skus))
    assert "Link" in response.headers


async def test_one_variant_with_etag_and_304(client: AsyncClient, factory: Factory) -> None:
    product = await shirt(factory)
    small, _, archived = await stored_variants_of(factory, product)

    response = await client.get(f"{URL}/{product.id}/variants/{small.id}")

    assert response.status_code == 200
    assert response.json()["sku"] == "TEE-S-B"
    etag = response.headers["ETag"]
    assert etag == f'"variant-{small.id}-v{small.version}"'
    assert (
        await client.get(f"{URL}/{product.id}/variants/{small.id}", headers={"If-None-Match": etag})
    ).status_code == 304
    assert_problem(await client.get(f"{URL}/{product.id}/variants/{archived.id}"), 404, "variant_not_found")
    other = await factory.product()
    assert_problem(await client.get(f"{URL}/{other.id}/variants/{small.id}"), 404, "variant_not_found")


async def stored_variants_of(factory: Factory, product: Product) -> list[ProductVariant]:
    return list((await factory.reload(Product, product.id)).variants)


# --- creating ------------------------------------------------------------------------------------------------


async def test_create_a_variant(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    before = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    response = await client.post(
        f"{URL}/{product.id}/variants",
        json={"sku": "TEE-S-R", "options": {"Colour": "Red", "Size": "S"}, "price": "18.50", "stock": 4},
        headers=staff.headers,
    )

    assert response.status_code == 201, response.text
    variant = response.json()
    assert response.headers["Location"] == f"{URL}/{product.id}/variants/{variant['id']}"
    assert response.headers["ETag"] == f'"variant-{variant["id"]}-v1"'
    assert variant == {
        "id": variant["id"],
        "sku": "TEE-S-R",
        "options": {"Size": "S", "Colour": "Red"},
        "price": "18.50",
        "stock": 4,
        "in_stock": True,
        "archived": False,
        "image_url": None,
    }
    stored = await factory.reload(Product, product.id)
    assert (stored.price, stored.stock) == (Decimal("18.50"), 14)
    read = await client.get(f"{URL}/{product.id}")
    assert read.headers["ETag"] != before
    assert [v["sku"] for v in read.json()["variants"]] == ["TEE-S-B", "TEE-M-B", "TEE-S-R"]
    [event] = await product_events(database)
    assert (event.type, event.data["stock"], len(event.data["variants"])) == ("product.updated", 14, 3)


async def test_a_variant_price_defaults_to_the_products(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.post(
        f"{URL}/{product.id}/variants", json={"options": {"Size": "L", "Colour": "Blue"}}, headers=staff.headers
    )

    assert response.status_code == 201, response.text
    assert (response.json()["price"], response.json()["stock"], response.json()["sku"]) == ("20.00", 0, None)


async def test_an_existing_combination_is_409_variant_exists(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.post(
        f"{URL}/{product.id}/variants", json={"options": {"Size": "M", "Colour": "Blue"}}, headers=staff.headers
    )

    assert_problem(response, 409, "variant_exists")
    assert len(await stored_variants(database, product.id)) == 3


async def test_a_product_without_options_has_its_one_variant(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product()

    response = await client.post(f"{URL}/{product.id}/variants", json={"options": {}}, headers=staff.headers)

    assert_problem(response, 409, "variant_exists")


async def test_an_archived_combination_may_be_offered_again(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.post(
        f"{URL}/{product.id}/variants", json={"options": {"Size": "L", "Colour": "Red"}}, headers=staff.headers
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "options",
    [{"Size": "S"}, {"Size": "XL", "Colour": "Blue"}, {"Size": "S", "Colour": "Blue", "Fit": "Slim"}, {}],
    ids=["missing-option", "unknown-value", "unknown-option", "none"],
)
async def test_options_that_do_not_fit_the_product_are_422(
    client: AsyncClient, factory: Factory, database: Database, options: dict[str, str]
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.post(f"{URL}/{product.id}/variants", json={"options": options}, headers=staff.headers)

    assert_problem(response, 422, "invalid_options")
    assert len(await stored_variants(database, product.id)) == 3


@pytest.mark.parametrize("taken_by", ["variant", "single-variant product"])
async def test_a_sku_taken_by_any_variant_is_409_sku_taken(
    client: AsyncClient, factory: Factory, database: Database, taken_by: str
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    sku = "TEE-L-R" if taken_by == "variant" else "MUG-1"  # an archived variant keeps its SKU
    await factory.product(sku="MUG-1")

    response = await client.post(
        f"{URL}/{product.id}/variants",
        json={"sku": sku, "options": {"Size": "S", "Colour": "Red"}},
        headers=staff.headers,
    )

    assert_problem(response, 409, "sku_taken")
    assert len(await stored_variants(database, product.id)) == 3
    # And the other way round: a new product may not take a variant's SKU.
    created = await client.post(URL, json={"name": "Cap", "price": "5.00", "sku": "TEE-S-B"}, headers=staff.headers)
    assert_problem(created, 409, "sku_taken")


async def test_creating_a_variant_is_for_staff(client: AsyncClient, factory: Factory) -> None:
    product = await shirt(factory)
    body = {"options": {"Size": "L", "Colour": "Blue"}}
    assert (await client.post(f"{URL}/{product.id}/variants", json=body)).status_code == 401
    buyer = await factory.customer()
    assert (await client.post(f"{URL}/{product.id}/variants", json=body, headers=buyer.headers)).status_code == 403


# --- changing ------------------------------------------------------------------------------------------------


async def test_patch_a_variant_honours_if_match_and_moves_the_product(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    small = (await stored_variants_of(factory, product))[0]
    url = f"{URL}/{product.id}/variants/{small.id}"
    etag = (await client.get(url)).headers["ETag"]
    product_etag = (await client.get(f"{URL}/{product.id}")).headers["ETag"]

    changed = await client.patch(
        url, json={"price": "25.00", "sku": "TEE-S-BLUE"}, headers=staff.headers | {"If-Match": etag}
    )
    stale = await client.patch(url, json={"price": "1.00"}, headers=staff.headers | {"If-Match": etag})

    assert changed.status_code == 200, changed.text
    assert (changed.json()["price"], changed.json()["sku"]) == ("25.00", "TEE-S-BLUE")
    assert changed.headers["ETag"] != etag
    assert_problem(stale, 412, "precondition_failed")
    stored = await factory.reload(Product, product.id)
    assert stored.price == Decimal("22.00")  # now the lowest price for sale is M's
    read = await client.get(f"{URL}/{product.id}")
    assert read.headers["ETag"] != product_etag
    assert read.json()["price"] == "22.00"
    [event] = await product_events(database)
    assert (event.type, event.data["price"]) == ("product.updated", "22.00")


async def test_patch_refuses_a_taken_sku_and_null_price(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    small = (await stored_variants_of(factory, product))[0]
    url = f"{URL}/{product.id}/variants/{small.id}"

    assert_problem(await client.patch(url, json={"sku": "TEE-M-B"}, headers=staff.headers), 409, "sku_taken")
    assert_problem(await client.patch(url, json={"price": None}, headers=staff.headers), 422, "validation_error")
    assert_problem(await client.patch(url, json={"stock": 1}, headers=staff.headers), 422, "validation_error")
    kept = await client.patch(url, json={"sku": "TEE-S-B"}, headers=staff.headers)  # its own SKU
    assert kept.status_code == 200


async def test_archive_a_variant(client: AsyncClient, factory: Factory, database: Database) -> None:
    admin, staff = await factory.admin(), await factory.staff()
    product = await shirt(factory)
    small = (await stored_variants_of(factory, product))[0]
    url = f"{URL}/{product.id}/variants/{small.id}"

    assert (await client.delete(url, headers=staff.headers)).status_code == 403
    response = await client.delete(url, headers=admin.headers)

    assert response.status_code == 204
    stored = await factory.reload(Product, product.id)
    assert (stored.stock, stored.price, stored.sku) == (3, Decimal("22.00"), "TEE-M-B")  # M is its one variant left
    archived = next(v for v in stored.variants if v.id == small.id)
    assert (archived.archived, archived.option_key, archived.stock) == (True, None, 7)
    assert_problem(await client.get(url), 404, "variant_not_found")
    assert (await client.get(url, headers=staff.headers)).json()["archived"] is True
    assert (await client.delete(url, headers=admin.headers)).status_code == 204  # again: nothing changes


async def test_variant_stock_is_adjusted_atomically(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    small, medium, _ = await stored_variants_of(factory, product)
    url = f"{URL}/{product.id}/variants/{small.id}/stock"

    taken = await client.post(url, json={"delta": -2}, headers=staff.headers)
    refused = await client.post(url, json={"delta": -6}, headers=staff.headers)

    assert taken.status_code == 200, taken.text
    assert taken.json()["stock"] == 5
    assert "ETag" in taken.headers
    body = assert_problem(refused, 409, "insufficient_stock")
    assert (body["product_ids"], body["variant_ids"]) == ([product.id], [small.id])
    stored = await factory.reload(Product, product.id)
    assert stored.stock == 8
    assert {v.id: v.stock for v in stored.variants} == {small.id: 5, medium.id: 3, stored.variants[2].id: 9}
    async with database.read_session() as session:
        low = (await session.scalars(select(Event).where(Event.type == "stock.low"))).all()
    assert [e.data for e in low] == [{"product_id": product.id, "variant_id": small.id, "sku": "TEE-S-B", "stock": 5}]


async def test_product_stock_of_a_product_of_several_variants_is_409_variant_required(
    client: AsyncClient, factory: Factory
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.post(f"{URL}/{product.id}/stock", json={"delta": 1}, headers=staff.headers)

    assert_problem(response, 409, "variant_required")
    assert (await factory.reload(Product, product.id)).stock == 10


async def test_product_writes_leave_variant_figures_to_the_variants(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    url = f"{URL}/{product.id}"
    read = (await client.get(url)).json()

    for change in ({"price": "1.00"}, {"stock": 1}, {"sku": "SHIRT"}):
        assert_problem(await client.patch(url, json=change, headers=staff.headers), 409, "variant_required")
    # What the product shows, sent back as it is, changes nothing of the variants: a read-modify-write works.
    same = {key: read[key] for key in ("name", "description", "price", "category", "sku", "stock")}
    replaced = await client.put(url, json=same | {"name": "Tee"}, headers=staff.headers)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["name"], replaced.json()["price"], replaced.json()["stock"]) == ("Tee", "20.00", 10)


async def test_a_single_variant_product_changes_its_variant(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product(sku="MUG-1", price=Decimal("4.00"), stock=2)

    response = await client.patch(
        f"{URL}/{product.id}", json={"price": "5.00", "stock": 7, "sku": "MUG-2"}, headers=staff.headers
    )

    assert response.status_code == 200, response.text
    [variant] = response.json()["variants"]
    assert (variant["price"], variant["stock"], variant["sku"]) == ("5.00", 7, "MUG-2")
    assert (response.json()["price"], response.json()["stock"], response.json()["sku"]) == ("5.00", 7, "MUG-2")


# --- options -------------------------------------------------------------------------------------------------


async def test_adding_an_option_gives_variants_its_first_value(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    product = await factory.product(sku="MUG-1")
    url = f"{URL}/{product.id}"
    etag = (await client.get(url)).headers["ETag"]

    response = await client.put(
        f"{url}/options",
        json={"options": [{"name": "Size", "values": ["Small", "Large"]}]},
        headers=staff.headers | {"If-Match": etag},
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != etag
    assert response.json()["options"] == [{"name": "Size", "values": ["Small", "Large"]}]
    assert [v["options"] for v in response.json()["variants"]] == [{"Size": "Small"}]
    large = await client.post(
        f"{url}/variants", json={"options": {"Size": "Large"}, "price": "6.00", "stock": 2}, headers=staff.headers
    )
    assert large.status_code == 201, large.text
    stale = await client.put(f"{url}/options", json={"options": []}, headers=staff.headers | {"If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    async with database.read_session() as session:
        options = (await session.scalars(select(ProductOption).where(ProductOption.product_id == product.id))).all()
    assert [(o.name, o.values, o.position) for o in options] == [("Size", ["Small", "Large"], 0)]


@pytest.mark.parametrize(
    "options",
    [
        [{"name": "Size", "values": ["S", "M", "L"]}],  # Colour goes
        [{"name": "Size", "values": ["M", "L"]}, {"name": "Colour", "values": ["Blue", "Red"]}],  # S goes
        [{"name": "size", "values": ["S", "M", "L"]}, {"name": "Colour", "values": ["Blue", "Red"]}],  # renamed
    ],
    ids=["option-removed", "value-removed", "renamed"],
)
async def test_options_a_variant_has_a_value_of_stay_409_options_in_use(
    client: AsyncClient, factory: Factory, options: list[dict[str, Any]]
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)

    response = await client.put(f"{URL}/{product.id}/options", json={"options": options}, headers=staff.headers)

    body = assert_problem(response, 409, "options_in_use")
    assert body["variant_ids"]
    stored = await factory.reload(Product, product.id)
    assert [(o.name, o.values) for o in stored.options] == list(SHIRT_OPTIONS.items())


async def test_values_may_be_added_and_reordered_and_an_archived_variants_values_dropped(
    client: AsyncClient, factory: Factory
) -> None:
    staff = await factory.staff()
    product = await shirt(factory)
    options = [{"name": "Colour", "values": ["Blue", "Green"]}, {"name": "Size", "values": ["XS", "S", "M"]}]

    response = await client.put(f"{URL}/{product.id}/options", json={"options": options}, headers=staff.headers)

    assert response.status_code == 200, response.text
    assert [o["name"] for o in response.json()["options"]] == ["Colour", "Size"]
    assert [v["options"] for v in response.json()["variants"]] == [
        {"Colour": "Blue", "Size": "S"},
        {"Colour": "Blue", "Size": "M"},
    ]


@pytest.mark.parametrize(
    "options",
    [
        [{"name": "A", "values": ["1"]}, {"name": "B", "values": ["1"]}, {"name": "C", "values": ["1"]},
         {"name": "D", "values": ["1"]}],
        [{"name": "Size", "values": [str(n) for n in range(51)]}],
        [{"name": "Size", "values": ["S", "S"]}],
        [{"name": "Size", "values": ["S"]}, {"name": "SIZE", "values": ["M"]}],
        [{"name": "Size", "values": []}],
        [{"name": "x" * 51, "values": ["S"]}],
        [{"name": 'Si"ze', "values": ["S"]}],
        [{"name": "Size", "values": [" S"]}],
        [{"name": "Size ", "values": ["S"]}],
        [{"name": "Size", "values": ["\u3000"]}],
    ],
    ids=["four-options", "51-values", "repeated-value", "repeated-name", "no-values", "long-name", "quote",
         "padded-value", "padded-name", "blank-value"],
)  # fmt: skip
async def test_options_beyond_the_limits_are_422(
    client: AsyncClient, factory: Factory, options: list[dict[str, Any]]
) -> None:
    staff = await factory.staff()
    product = await factory.product()

    response = await client.put(f"{URL}/{product.id}/options", json={"options": options}, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert (await client.get(f"{URL}/{product.id}")).json()["options"] == []


# --- the list's option filters --------------------------------------------------------------------------------


async def test_filter_by_option_values(client: AsyncClient, factory: Factory) -> None:
    blue_shirt = await shirt(factory)
    red_shirt = await factory.product_with_variants(
        {"Size": ["M"], "Colour": ["Red"]}, [{"options": {"Size": "M", "Colour": "Red"}, "stock": 0}]
    )
    await factory.product()

    def ids(params: dict[str, str]) -> Any:
        return client.get(URL, params=params)

    assert [p["id"] for p in (await ids({"option.Size": "M"})).json()] == [blue_shirt.id, red_shirt.id]
    assert [p["id"] for p in (await ids({"option.Size": "M", "option.Colour": "Blue"})).json()] == [blue_shirt.id]
    assert [p["id"] for p in (await ids({"option.Size": "M", "in_stock": "true"})).json()] == [blue_shirt.id]
    assert [p["id"] for p in (await ids({"option.Size": "M", "in_stock": "false"})).json()] == [red_shirt.id]
    # Only variants for sale count: the archived L/Red does not.
    assert (await ids({"option.Size": "L"})).json() == []
    assert (await ids({"option.Fit": "Slim"})).json() == []
    response = await ids({"option.Size": "x" * 51})
    assert_problem(response, 422, "validation_error")
    assert response.json()["errors"][0]["loc"] == ["query", "option.Size"]
