from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from storefront.auth.dependencies import AdminUser, OptionalUser, StaffUser
from storefront.catalog import export, images, service
from storefront.catalog.dependencies import ProductId, VisibleProduct, WritableProduct
from storefront.catalog.filters import OPTION_FILTERS, option_filters
from storefront.catalog.schemas import ProductCreate, ProductRead, ProductReplace, ProductUpdate, StockAdjustment
from storefront.context import DatabaseDep, ReadSession, SettingsDep, StorageDep, WriteSession, app_context
from storefront.contract import api_router
from storefront.kit.etag import make_etag, not_modified, require_match
from storefront.kit.export import ExportFormat
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, Sort, set_page_headers, sort_dependency
from storefront.kit.schemas import Money
from storefront.models import Product

router = api_router("/products", tags=["catalog"])

ProductSort = Annotated[Sort, Depends(sort_dependency(list(service.SORTABLE), "created_at"))]
PriceFilter = Annotated[Money | None, Query(ge=0, le=1_000_000)]
# The default MAX_UPLOAD_BYTES (5 MiB): a bigger upload is 413.
UPLOAD_SCHEMA = {"maxLength": 5 * 1024 * 1024}
WRITE_ERRORS = problems(401, 403, 404, 409, 412, 422)


def _etag(product: Product) -> str:
    return make_etag("product", product.id, product.version)


async def _filters(
    request: Request,
    category: Annotated[str | None, Query(max_length=50)] = None,
    in_stock: bool | None = None,
    min_price: PriceFilter = None,
    max_price: PriceFilter = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in the name or description.")] = None,
) -> service.ProductFilters:
    return service.ProductFilters(
        category=category,
        in_stock=in_stock,
        min_price=min_price,
        max_price=max_price,
        q=q,
        options=option_filters(request.query_params),
    )


ProductFiltersDep = Annotated[service.ProductFilters, Depends(_filters)]


@router.get("", response_model=list[ProductRead], responses=problems(401, 422), description=OPTION_FILTERS)
async def list_products(
    session: ReadSession,
    user: OptionalUser,
    filters: ProductFiltersDep,
    page: PageDep,
    sort: ProductSort,
    request: Request,
) -> Response:
    """Browse the catalog with filters, text search, sorting and paging."""
    cache = app_context(request).product_cache
    listed = await service.list_serialised(session, cache, user, filters, page, sort)
    response = Response(listed.body, media_type="application/json")
    set_page_headers(request, response, page, listed.total)
    return response


@router.get(
    "/export",
    responses={200: {"content": {"text/csv": {}, "application/jsonl": {}}}, **problems(401, 403, 422)},
)
async def export_products(user: StaffUser, database: DatabaseDep, format: ExportFormat = "csv") -> StreamingResponse:
    """Every product, archived ones included, as CSV or JSON Lines streamed from the database."""
    return export.products_response(database, user, format)


@router.get("/{product_id}", response_model=ProductRead, responses=problems(401, 404, 422))
async def read_product(product_id: ProductId, user: OptionalUser, session: ReadSession, request: Request) -> Response:
    """One product; answers 304 when `If-None-Match` still matches."""
    # The cache comes straight off the context, not as one more dependency: this is the hot read.
    cached = await service.read_serialised(session, app_context(request).product_cache, product_id, viewer=user)
    etag = cached.etag
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(cached.body, media_type="application/json", headers={"ETag": etag})


@router.post("", status_code=201, response_model=ProductRead, responses=problems(401, 403, 409, 422))
async def create_product(body: ProductCreate, _: StaffUser, session: WriteSession, response: Response) -> Product:
    """Add a product to the catalog."""
    product = await service.create(session, body)
    response.headers["Location"] = f"/api/v1/products/{product.id}"
    response.headers["ETag"] = _etag(product)
    return product


@router.put("/{product_id}", response_model=ProductRead, responses=WRITE_ERRORS)
async def replace_product(
    body: ProductReplace,
    _: StaffUser,
    product: WritableProduct,
    session: WriteSession,
    request: Request,
    response: Response,
) -> Product:
    """Replace a product whole; honours `If-Match`."""
    require_match(request, _etag(product))
    product = await service.replace(session, product, body)
    response.headers["ETag"] = _etag(product)
    return product


@router.patch("/{product_id}", response_model=ProductRead, responses=WRITE_ERRORS)
async def update_product(
    body: ProductUpdate,
    _: StaffUser,
    product: WritableProduct,
    session: WriteSession,
    request: Request,
    response: Response,
) -> Product:
    """Change only the fields sent; honours `If-Match`."""
    require_match(request, _etag(product))
    product = await service.update(session, product, body)
    response.headers["ETag"] = _etag(product)
    return product


@router.delete("/{product_id}", status_code=204, responses=problems(401, 403, 404, 412, 422))
async def archive_product(_: AdminUser, product: WritableProduct, session: WriteSession, request: Request) -> None:
    """Archive a product: it leaves the catalog, past orders keep their lines."""
    require_match(request, _etag(product))
    await service.archive(session, product)


@router.post("/{product_id}/stock", response_model=ProductRead, responses=WRITE_ERRORS)
async def adjust_stock(
    body: StockAdjustment,
    _: StaffUser,
    product: WritableProduct,
    session: WriteSession,
    settings: SettingsDep,
    response: Response,
) -> Product:
    """Add to or take from the stock of a product of one variant; never below zero."""
    product = await service.adjust_stock(session, product, body.delta, stock_low_threshold=settings.stock_low_threshold)
    response.headers["ETag"] = _etag(product)
    return product


@router.put(
    "/{product_id}/image",
    response_model=ProductRead,
    responses=problems(400, 401, 403, 404, 413, 415, 422),
)
async def upload_image(
    file: Annotated[UploadFile, File(description="A PNG, JPEG or WebP image.", json_schema_extra=UPLOAD_SCHEMA)],
    _: StaffUser,
    product: WritableProduct,
    session: WriteSession,
    storage: StorageDep,
    response: Response,
) -> Product:
    """Set the product's image; its type is judged from the bytes, not the declared type."""
    product = await images.replace(session, storage, product, file)
    response.headers["ETag"] = _etag(product)
    return product


@router.get(
    "/{product_id}/image",
    response_class=StreamingResponse,
    responses=images.READ_RESPONSES,
)
async def read_image(product: VisibleProduct, storage: StorageDep, request: Request) -> Response:
    """The product's image, streamed, with `ETag` and cache headers."""
    return await images.response(storage, product.image_key, request)
