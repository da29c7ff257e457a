"""Product images: PNG, JPEG or WebP judged by their bytes, streamed to and from storage."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

import filetype
from fastapi import Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from storefront.catalog import notify, service
from storefront.contract import IMAGE_CACHE_CONTROL
from storefront.errors import NotFound, UnsupportedMediaType
from storefront.kit.etag import not_modified
from storefront.kit.openapi import problems
from storefront.kit.storage import CHUNK, ObjectMissing, Storage
from storefront.models import Product, ProductVariant
from storefront.uow import UnitOfWork

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
MEDIA_TYPES = {extension: media for media, extension in EXTENSIONS.items()}
# What an image read answers, as the document says it (products' and variants' alike).
READ_RESPONSES = {
    200: {"content": {media: {} for media in EXTENSIONS}, "description": "The image."},
    **problems(401, 404, 422),
}
SNIFF_BYTES = 262  # what `filetype` needs to tell the formats apart


class ImageNotFound(NotFound):
    code = "image_not_found"

    def default_detail(self) -> str:
        return "There is no image here."


class UnsupportedImage(UnsupportedMediaType):
    code = "unsupported_image"

    def default_detail(self) -> str:
        return "The file is not a PNG, JPEG or WebP image."


async def replace(session: UnitOfWork, storage: Storage, product: Product, upload: UploadFile) -> Product:
    """Store a new image for `product`; the old one is deleted once the change commits."""
    key = await _store(storage, f"products/{product.id}", upload)
    _forget(session, storage, product.image_key)
    product.image_key = key
    await session.flush()
    await notify.product_changed(session, "product.updated", product)
    return product


async def replace_for_variant(
    session: UnitOfWork, storage: Storage, product: Product, variant: ProductVariant, upload: UploadFile
) -> ProductVariant:
    """Store a new image for one variant (the product's own stays); the old one goes once committed."""
    key = await _store(storage, f"products/{product.id}/variants/{variant.id}", upload)
    _forget(session, storage, variant.image_key)
    variant.image_key = key
    service.retotal(product)  # the product's version (its ETag) moves with its variants
    await session.flush()
    await notify.product_changed(session, "product.updated", product)
    return variant


async def _store(storage: Storage, folder: str, upload: UploadFile) -> str:
    head = await upload.read(SNIFF_BYTES)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in EXTENSIONS:
        raise UnsupportedImage()
    key = f"{folder}/{uuid.uuid4().hex}.{EXTENSIONS[kind.mime]}"
    await storage.put(key, _chunks(head, upload))
    return key


def _forget(session: UnitOfWork, storage: Storage, previous: str | None) -> None:
    if previous:
        session.after_commit(lambda: storage.delete(previous))


async def _chunks(head: bytes, upload: UploadFile) -> AsyncIterator[bytes]:
    yield head
    while chunk := await upload.read(CHUNK):
        yield chunk


def image_etag(key: str) -> str:
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


async def response(storage: Storage, image_key: str | None, request: Request) -> Response:
    """The image (of a product or a variant) streamed from storage, or 304 when the client's copy is current."""
    if not image_key:
        raise ImageNotFound()
    headers = {"ETag": image_etag(image_key), "Cache-Control": IMAGE_CACHE_CONTROL}
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    try:
        stored = await storage.open(image_key)
    except ObjectMissing:
        raise ImageNotFound() from None
    media_type = MEDIA_TYPES[image_key.rsplit(".", 1)[-1]]
    headers["Content-Length"] = str(stored.size)
    return StreamingResponse(stored.chunks, media_type=media_type, headers=headers)
