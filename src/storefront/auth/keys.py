"""API keys: long-lived credentials for scripts, acting as their owner.

A key is shown once, when it is made; the database keeps its SHA-256 and a
short visible prefix to recognise it by.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth import repository
from storefront.auth.opaque import digest, new_secret
from storefront.database import Database
from storefront.db import utcnow
from storefront.kit.pagination import Page, PageOf, fetch
from storefront.models import ApiKey, User

KEY_PREFIX = "sf_"
VISIBLE = 12  # "sf_" and 9 characters of the secret: enough to tell keys apart, useless to guess with
TOUCH_EVERY_SECONDS = 60


async def create(session: AsyncSession, owner: User, name: str) -> tuple[ApiKey, str]:
    """A new key and its secret, which is never available again."""
    secret = KEY_PREFIX + new_secret()
    key = ApiKey(user_id=owner.id, name=name, prefix=secret[:VISIBLE], key_hash=digest(secret), created_at=utcnow())
    session.add(key)
    await session.flush()
    return key, secret


async def list_own(session: AsyncSession, owner: User, page: Page) -> PageOf[ApiKey]:
    """One page of the owner's live keys, and how many there are."""
    return await fetch(session, repository.api_keys_of(owner), page)


async def revoke(session: AsyncSession, key: ApiKey) -> None:
    key.revoked_at = utcnow()
    await session.flush()


async def touch(database: Database, key_id: int) -> None:
    """Record a use, in its own short transaction after the response (best effort)."""
    async with database.transaction() as session:
        await repository.touch_api_key(session, key_id)
