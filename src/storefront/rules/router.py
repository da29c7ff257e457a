"""The checkout rules over HTTP, for staff: `/api/v1/discounts`, `/shipping-methods`, `/tax-rates`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from storefront.auth.dependencies import StaffUser
from storefront.context import ReadSession, WriteSession
from storefront.contract import api_router
from storefront.kit.country import Country
from storefront.kit.etag import make_etag, require_match, unless_modified
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, Sort, sort_dependency, with_page_headers
from storefront.models import Discount, ShippingMethod, TaxRate
from storefront.models.rules import CODE_LENGTH
from storefront.pricing import DiscountKind
from storefront.rules import service
from storefront.rules.dependencies import (
    VisibleDiscount,
    VisibleShippingMethod,
    VisibleTaxRate,
    WritableDiscount,
    WritableShippingMethod,
    WritableTaxRate,
)
from storefront.rules.schemas import (
    DiscountCreate,
    DiscountRead,
    DiscountUpdate,
    ShippingMethodCreate,
    ShippingMethodRead,
    ShippingMethodUpdate,
    TaxRateCreate,
    TaxRateRead,
    TaxRateUpdate,
)

STAFF_ONLY = problems(401, 403)
WRITE_ERRORS = problems(404, 409, 412, 422)
DELETE_ERRORS = problems(404, 412, 422)
CodeFilter = Annotated[str | None, Query(max_length=CODE_LENGTH, description="The code contains this, ignoring case.")]

# --- discounts ---------------------------------------------------------------------------

discounts = api_router("/discounts", tags=["rules"], responses=STAFF_ONLY)

DiscountSort = Annotated[Sort, Depends(sort_dependency(list(service.DISCOUNT_SORTABLE), "code"))]


def _discount_etag(discount: Discount) -> str:
    return make_etag("discount", discount.id, discount.version)


async def _discount_filters(
    active: bool | None = None, kind: DiscountKind | None = None, code: CodeFilter = None
) -> service.DiscountFilters:
    return service.DiscountFilters(active=active, kind=kind, code=code)


@discounts.get("", response_model=list[DiscountRead], responses=problems(422))
async def list_discounts(
    _: StaffUser,
    session: ReadSession,
    filters: Annotated[service.DiscountFilters, Depends(_discount_filters)],
    page: PageDep,
    sort: DiscountSort,
    request: Request,
    response: Response,
) -> list[Discount]:
    """Every discount code, with how often each has been used."""
    return with_page_headers(request, response, await service.list_discounts(session, filters, page, sort))


@discounts.post("", status_code=201, response_model=DiscountRead, responses=problems(409, 422))
async def create_discount(body: DiscountCreate, _: StaffUser, session: WriteSession, response: Response) -> Discount:
    """Add a discount code; codes are unique ignoring case."""
    discount = await service.create_discount(session, body)
    response.headers["Location"] = f"/api/v1/discounts/{discount.id}"
    response.headers["ETag"] = _discount_etag(discount)
    return discount


@discounts.get("/{discount_id}", response_model=DiscountRead, responses=problems(404, 422))
async def read_discount(discount: VisibleDiscount, request: Request, response: Response) -> Discount | Response:
    """One discount code; answers 304 when `If-None-Match` still matches."""
    return unless_modified(request, response, _discount_etag(discount)) or discount


@discounts.patch("/{discount_id}", response_model=DiscountRead, responses=WRITE_ERRORS)
async def update_discount(
    body: DiscountUpdate, discount: WritableDiscount, session: WriteSession, request: Request, response: Response
) -> Discount:
    """Change only the fields sent (`used` is the checkout's to count); honours `If-Match`."""
    require_match(request, _discount_etag(discount))
    discount = await service.update_discount(session, discount, body)
    response.headers["ETag"] = _discount_etag(discount)
    return discount


@discounts.delete("/{discount_id}", status_code=204, responses=DELETE_ERRORS)
async def delete_discount(discount: WritableDiscount, session: WriteSession, request: Request) -> None:
    """Remove a discount code; orders that used it keep it. Honours `If-Match`."""
    require_match(request, _discount_etag(discount))
    await service.delete_discount(session, discount)


# --- shipping methods ----------------------------------------------------------------------

shipping_methods = api_router("/shipping-methods", tags=["rules"], responses=STAFF_ONLY)

ShippingSort = Annotated[Sort, Depends(sort_dependency(list(service.SHIPPING_SORTABLE), "code"))]


def _shipping_etag(method: ShippingMethod) -> str:
    return make_etag("shipping-method", method.id, method.version)


async def _shipping_filters(
    active: bool | None = None,
    country: Annotated[Country | None, Query(description="Ships to this country.")] = None,
    code: CodeFilter = None,
) -> service.ShippingFilters:
    return service.ShippingFilters(active=active, country=country, code=code)


@shipping_methods.get("", response_model=list[ShippingMethodRead], responses=problems(422))
async def list_shipping_methods(
    _: StaffUser,
    session: ReadSession,
    filters: Annotated[service.ShippingFilters, Depends(_shipping_filters)],
    page: PageDep,
    sort: ShippingSort,
    request: Request,
    response: Response,
) -> list[ShippingMethod]:
    """Every shipping method, with the countries it ships to."""
    return with_page_headers(request, response, await service.list_shipping_methods(session, filters, page, sort))


@shipping_methods.post("", status_code=201, response_model=ShippingMethodRead, responses=problems(409, 422))
async def create_shipping_method(
    body: ShippingMethodCreate, _: StaffUser, session: WriteSession, response: Response
) -> ShippingMethod:
    """Add a shipping method; codes are unique ignoring case."""
    method = await service.create_shipping_method(session, body)
    response.headers["Location"] = f"/api/v1/shipping-methods/{method.id}"
    response.headers["ETag"] = _shipping_etag(method)
    return method


@shipping_methods.get("/{shipping_method_id}", response_model=ShippingMethodRead, responses=problems(404, 422))
async def read_shipping_method(
    method: VisibleShippingMethod, request: Request, response: Response
) -> ShippingMethod | Response:
    """One shipping method; answers 304 when `If-None-Match` still matches."""
    return unless_modified(request, response, _shipping_etag(method)) or method


@shipping_methods.patch("/{shipping_method_id}", response_model=ShippingMethodRead, responses=WRITE_ERRORS)
async def update_shipping_method(
    body: ShippingMethodUpdate,
    method: WritableShippingMethod,
    session: WriteSession,
    request: Request,
    response: Response,
) -> ShippingMethod:
    """Change only the fields sent; `countries` is replaced whole. Honours `If-Match`."""
    require_match(request, _shipping_etag(method))
    method = await service.update_shipping_method(session, method, body)
    response.headers["ETag"] = _shipping_etag(method)
    return method


@shipping_methods.delete("/{shipping_method_id}", status_code=204, responses=DELETE_ERRORS)
async def delete_shipping_method(method: WritableShippingMethod, session: WriteSession, request: Request) -> None:
    """Remove a shipping method; orders shipped by it keep it. Honours `If-Match`."""
    require_match(request, _shipping_etag(method))
    await service.delete_shipping_method(session, method)


# --- tax rates -------------------------------------------------------------------------------

tax_rates = api_router("/tax-rates", tags=["rules"], responses=STAFF_ONLY)

TaxRateSort = Annotated[Sort, Depends(sort_dependency(list(service.TAX_SORTABLE), "country"))]


def _tax_etag(rate: TaxRate) -> str:
    return make_etag("tax-rate", rate.id, rate.version)


async def _tax_filters(
    country: Annotated[Country | None, Query(description="The rate of this country.")] = None,
) -> service.TaxRateFilters:
    return service.TaxRateFilters(country=country)


@tax_rates.get("", response_model=list[TaxRateRead], responses=problems(422))
async def list_tax_rates(
    _: StaffUser,
    session: ReadSession,
    filters: Annotated[service.TaxRateFilters, Depends(_tax_filters)],
    page: PageDep,
    sort: TaxRateSort,
    request: Request,
    response: Response,
) -> list[TaxRate]:
    """Every country's tax rate; a country without one is charged no tax."""
    return with_page_headers(request, response, await service.list_tax_rates(session, filters, page, sort))


@tax_rates.post("", status_code=201, response_model=TaxRateRead, responses=problems(409, 422))
async def create_tax_rate(body: TaxRateCreate, _: StaffUser, session: WriteSession, response: Response) -> TaxRate:
    """Set the tax rate of a country that has none yet."""
    rate = await service.create_tax_rate(session, body)
    response.headers["Location"] = f"/api/v1/tax-rates/{rate.id}"
    response.headers["ETag"] = _tax_etag(rate)
    return rate


@tax_rates.get("/{tax_rate_id}", response_model=TaxRateRead, responses=problems(404, 422))
async def read_tax_rate(rate: VisibleTaxRate, request: Request, response: Response) -> TaxRate | Response:
    """One tax rate; answers 304 when `If-None-Match` still matches."""
    return unless_modified(request, response, _tax_etag(rate)) or rate


@tax_rates.patch("/{tax_rate_id}", response_model=TaxRateRead, responses=WRITE_ERRORS)
async def update_tax_rate(
    body: TaxRateUpdate, rate: WritableTaxRate, session: WriteSession, request: Request, response: Response
) -> TaxRate:
    """Change a country's rate (or the country); honours `If-Match`."""
    require_match(request, _tax_etag(rate))
    rate = await service.update_tax_rate(session, rate, body)
    response.headers["ETag"] = _tax_etag(rate)
    return rate


@tax_rates.delete("/{tax_rate_id}", status_code=204, responses=DELETE_ERRORS)
async def delete_tax_rate(rate: WritableTaxRate, session: WriteSession, request: Request) -> None:
    """Remove a country's rate: orders shipped there carry no tax from then on. Honours `If-Match`."""
    require_match(request, _tax_etag(rate))
    await service.delete_tax_rate(session, rate)
