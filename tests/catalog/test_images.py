"""Product images on local disk and on an S3-compatible server (moto)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from moto.server import ThreadedMotoServer

from storefront.config import Settings
from storefront.database import Database
from storefront.main import create_app
from storefront.models import Product
from tests.factories import Factory
from tests.notifications.conftest import free_port


def png(width: int = 2, height: int = 2, filler: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([filler]) * (width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 300 + b"\xff\xd9"
WEBP = b"RIFF" + struct.pack("<I", 300) + b"WEBPVP8 " + b"\x00" * 300


def upload(content: bytes, name: str = "photo.png", media: str = "image/png") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, media)}


async def image_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).create_bucket(Bucket="storefront-test")
    yield endpoint
    server.stop()


@pytest.fixture(params=["local", "s3"])
async def storage_client(
    request: pytest.FixtureRequest, settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncClient]:
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_server")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        settings = settings.model_copy(
            update={"storage_url": "s3://storefront-test/uploads", "s3_endpoint_url": endpoint}
        )
    async for client in image_client(settings):
        yield client


@pytest.mark.parametrize(("content", "media"), [(png(), "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")])
async def test_upload_then_download_gives_the_same_bytes(
    storage_client: AsyncClient, factory: Factory, content: bytes, media: str
) -> None:
    staff = await factory.staff()
    product = await factory.product()

    uploaded = await storage_client.put(
        f"/api/v1/products/{product.id}/image", files=upload(content, media="application/octet-stream"),
        headers=staff.headers,
    )  # fmt: skip

    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["image_url"] == f"/api/v1/products/{product.id}/image"
    image = await storage_client.get(f"/api/v1/products/{product.id}/image")
    assert image.status_code == 200
    assert image.content == content
    assert image.headers["content-type"] == media
    assert image.headers["cache-control"].startswith("public")
    cached = await storage_client.get(
        f"/api/v1/products/{product.id}/image", headers={"If-None-Match": image.headers["ETag"]}
    )
    assert cached.status_code == 304


async def test_a_new_image_replaces_the_old_one(storage_client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product()
    url = f"/api/v1/products/{product.id}/image"
    await storage_client.put(url, files=upload(png(filler=1)), headers=staff.headers)
    first = await storage_client.get(url)
    await storage_client.put(url, files=upload(png(filler=2)), headers=staff.headers)
    second = await storage_client.get(url)

    assert second.content == png(filler=2)
    assert second.headers["ETag"] != first.headers["ETag"]
    assert (await storage_client.get(url, headers={"If-None-Match": first.headers["ETag"]})).status_code == 200


async def test_fake_image_is_415_and_changes_nothing(client: AsyncClient, factory: Factory, settings: Settings) -> None:
    staff = await factory.staff()
    product = await factory.product()

    response = await client.put(
        f"/api/v1/products/{product.id}/image",
        files=upload(b"<?php echo 'not an image'; ?>" * 20, "evil.png", "image/png"),
        headers=staff.headers,
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_image"
    assert (await factory.reload(Product, product.id)).image_key is None
    uploads = Path(settings.storage_url.removeprefix("file://"))
    assert not uploads.exists() or not any(uploads.rglob("*.*"))


async def test_oversize_image_is_413_and_changes_nothing(
    settings: Settings, database: Database, factory: Factory
) -> None:
    staff = await factory.staff()
    product = await factory.product()
    small = settings.model_copy(update={"max_upload_bytes": 64 * 1024})
    async for client in image_client(small):
        response = await client.put(
            f"/api/v1/products/{product.id}/image",
            files=upload(png() + b"\x00" * (100 * 1024)),
            headers=staff.headers,
        )
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
    assert (await factory.reload(Product, product.id)).image_key is None


async def test_uploads_are_for_staff(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product()
    url = f"/api/v1/products/{product.id}/image"
    assert (await client.put(url, files=upload(png()), headers=buyer.headers)).status_code == 403
    assert (await client.put(url, files=upload(png()))).status_code == 401
    assert (await factory.reload(Product, product.id)).image_key is None


async def test_missing_image_and_missing_file_field(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product()
    missing = await client.get(f"/api/v1/products/{product.id}/image")
    assert missing.status_code == 404
    assert missing.json()["code"] == "image_not_found"
    assert (await client.get("/api/v1/products/999999/image")).status_code == 404
    no_file = await client.put(
        f"/api/v1/products/{product.id}/image", files={"other": ("x.png", png(), "image/png")}, headers=staff.headers
    )
    assert no_file.status_code == 422
