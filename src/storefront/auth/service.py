"""Registration and logging in."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth.passwords import verify_password
from storefront.auth.schemas import TokenPair
from storefront.auth.tokens import issue_access_token
from storefront.config import Settings
from storefront.errors import InvalidCredentials
from storefront.models import User
from storefront.notifications import service as notifications
from storefront.users import repository as users
from storefront.users import service as user_service
from storefront.users.schemas import UserRegister


async def register(session: AsyncSession, data: UserRegister) -> User:
    """A new customer, and their welcome email queued in the same transaction."""
    user = await user_service.create(session, data)
    await notifications.queue_template(
        session,
        "welcome",
        to=user.email,
        context={"user": {"username": user.username, "full_name": user.full_name}},
    )
    return user


async def authenticate(session: AsyncSession, login: str, password: str) -> User:
    """The active user with these credentials, else `InvalidCredentials`.

    Unknown accounts still pay for one hash, so timing does not tell them apart.
    """
    user = await users.find_by_login(session, login)
    valid, new_hash = await verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise InvalidCredentials()
    if new_hash is not None:
        await _rehash(session, user, new_hash)
    return user


async def _rehash(session: AsyncSession, user: User, new_hash: str) -> None:
    """Store the upgraded hash unless the password changed meanwhile.

    The row lock re-reads the user: a concurrent login that upgraded first, or
    a password change, leaves a different hash, which is then kept as it is.
    """
    verified_hash = user.password_hash
    await users.lock(session, user)
    if user.password_hash == verified_hash:
        user.password_hash = new_hash
        await session.flush()


def issue_tokens(settings: Settings, user: User) -> TokenPair:
    token, lifetime = issue_access_token(settings, user.id, user.token_version)
    return TokenPair(access_token=token, expires_in=lifetime)
