"""Object storage for uploads: a local folder by default, S3-compatible when configured.

`STORAGE_URL=file:///abs/path` or `s3://bucket[/prefix]` (with `S3_ENDPOINT_URL`
for MinIO, moto and the like; credentials from the usual `AWS_*` variables).
Both go through obstore, so uploads stream in and downloads stream out.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import obstore
from obstore.store import LocalStore, ObjectStore, S3Store

from storefront.config import Settings

CHUNK = 64 * 1024


class ObjectMissing(Exception):
    """The stored object is gone."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    size: int
    chunks: AsyncIterator[bytes]


class Storage:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        await obstore.put_async(self.store, key, chunks)

    async def open(self, key: str) -> StoredObject:
        try:
            result = await obstore.get_async(self.store, key)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        return StoredObject(size=result.meta["size"], chunks=_chunks(result.stream(min_chunk_size=CHUNK)))

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self.store, key)
        except FileNotFoundError:
            return


async def _chunks(stream: AsyncIterable[object]) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)  # type: ignore[call-overload]


def storage_from_settings(settings: Settings) -> Storage:
    parts = urlsplit(settings.storage_url)
    if parts.scheme == "file":
        return Storage(LocalStore(prefix=parts.path, mkdir=True))
    if parts.scheme == "s3" and parts.netloc:
        options = {"allow_http": True} if (settings.s3_endpoint_url or "").startswith("http://") else None
        store = S3Store(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            endpoint=settings.s3_endpoint_url,
            region=settings.s3_region,
            client_options=options,  # type: ignore[arg-type]
        )
        return Storage(store)
    raise ValueError("STORAGE_URL must be file:///path or s3://bucket[/prefix]")
