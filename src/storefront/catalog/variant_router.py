"""A product's variants and options: `/api/v1/products/{product_id}/variants`, `/options`."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from storefront.auth.dependencies import AdminUser, OptionalUser, StaffUser
from storefront.catalog import images, variants
from storefront.catalog.dependencies import VisibleProduct, VisibleVariant, WritableProduct, WritableVariant
from storefront.catalog.router import UPLOAD_SCHEMA, WRITE_ERRORS
from storefront.catalog.schemas import (
    OptionsReplace,
    ProductRead,
    StockAdjustment,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from storefront.context import ReadSession, SettingsDep, StorageDep, WriteSession
from storefront.contract import api_router
from storefront.kit.etag import make_etag, require_match, unless_modified
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, with_page_headers
from storefront.models import Product, ProductVariant

router = api_router("/products", tags=["catalog"])


def _etag(variant: ProductVariant) -> str:
    return make_etag("variant", variant.id, variant.version)


def product_etag(product: Product) -> str:
    return make_etag("product", product.id, product.version)


@router.get("/{product_id}/variants", response_model=list[VariantRead], responses=problems(401, 404, 422))
async def list_variants(
    product: VisibleProduct,
    user: OptionalUser,
    session: ReadSession,
    page: PageDep,
    request: Request,
    response: Response,
) -> list[ProductVariant]:
    """The product's variants in its order; archived ones for staff only."""
    return with_page_headers(request, response, await variants.list_variants(session, user, product, page))


@router.get("/{product_id}/variants/{variant_id}", response_model=VariantRead, responses=problems(401, 404, 422))
async def read_variant(variant: VisibleVariant, request: Request, response: Response) -> ProductVariant | Response:
    """One variant; answers 304 when `If-None-Match` still matches."""
    return unless_modified(request, response, _etag(variant)) or variant


@router.post(
    "/{product_id}/variants", status_code=201, response_model=VariantRead, responses=problems(401, 403, 404, 409, 422)
)
async def create_variant(
    body: VariantCreate, _: StaffUser, product: WritableProduct, session: WriteSession, response: Response
) -> ProductVariant:
    """Add a variant: one value for each of the product's options, a combination it does not have yet."""
    variant = await variants.create(session, product, body)
    response.headers["Location"] = f"/api/v1/products/{product.id}/variants/{variant.id}"
    response.headers["ETag"] = _etag(variant)
    return variant


@router.patch("/{product_id}/variants/{variant_id}", response_model=VariantRead, responses=WRITE_ERRORS)
async def update_variant(
    body: VariantUpdate,
    _: StaffUser,
    product: WritableProduct,
    variant: WritableVariant,
    session: WriteSession,
    storage: StorageDep,
    request: Request,
    response: Response,
) -> ProductVariant:
    """Change a variant's SKU or price, or remove its image; honours `If-Match`."""
    require_match(request, _etag(variant))
    variant = await variants.update(session, storage, product, variant, body)
    response.headers["ETag"] = _etag(variant)
    return variant


@router.delete("/{product_id}/variants/{variant_id}", status_code=204, responses=problems(401, 403, 404, 412, 422))
async def archive_variant(
    _: AdminUser, product: WritableProduct, variant: WritableVariant, session: WriteSession, request: Request
) -> None:
    """Archive a variant: it is no longer sold, past orders keep their lines."""
    require_match(request, _etag(variant))
    await variants.archive(session, product, variant)


@router.post("/{product_id}/variants/{variant_id}/stock", response_model=VariantRead, responses=WRITE_ERRORS)
async def adjust_variant_stock(
    body: StockAdjustment,
    _: StaffUser,
    product: WritableProduct,
    variant: WritableVariant,
    session: WriteSession,
    settings: SettingsDep,
    response: Response,
) -> ProductVariant:
    """Add to or take from the variant's stock atomically; never below zero."""
    threshold = settings.stock_low_threshold
    variant = await variants.adjust_stock(session, product, variant, body.delta, stock_low_threshold=threshold)
    response.headers["ETag"] = _etag(variant)
    return variant


@router.put(
    "/{product_id}/variants/{variant_id}/image",
    response_model=VariantRead,
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
async def upload_variant_image(
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image.", json_schema_extra=UPLOAD_SCHEMA)],
    _: StaffUser,
    product: WritableProduct,
    variant: WritableVariant,
    session: WriteSession,
    storage: StorageDep,
    response: Response,
) -> ProductVariant:
    """Set the variant's own image; its type is judged from the bytes."""
    variant = await images.replace_for_variant(session, storage, product, variant, file)
    response.headers["ETag"] = _etag(variant)
    return variant


@router.get(
    "/{product_id}/variants/{variant_id}/image",
    response_class=StreamingResponse,
    responses=images.READ_RESPONSES,
)
async def read_variant_image(variant: VisibleVariant, storage: StorageDep, request: Request) -> Response:
    """The variant's own image, streamed, with `ETag` and cache headers."""
    return await images.response(storage, variant.image_key, request)


@router.put("/{product_id}/options", response_model=ProductRead, responses=WRITE_ERRORS)
async def replace_options(
    body: OptionsReplace,
    _: StaffUser,
    product: WritableProduct,
    session: WriteSession,
    request: Request,
    response: Response,
) -> Product:
    """Replace the product's options: variants keep their values, or take a new option's first; honours `If-Match`."""
    require_match(request, product_etag(product))
    product = await variants.replace_options(session, product, body)
    response.headers["ETag"] = product_etag(product)
    return product
