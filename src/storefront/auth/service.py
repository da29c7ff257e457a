"""Registration, logging in, and changing or resetting a password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storefront.auth import accounts, repository, sessions
from storefront.auth.errors import InvalidResetToken, WrongPassword
from storefront.auth.limits import AuthLimits, account_key
from storefront.auth.opaque import digest, new_secret
from storefront.auth.passwords import hash_password, verify_password
from storefront.auth.schemas import TokenPair, UserRegister
from storefront.config import Settings
from storefront.database import Database
from storefront.db import utcnow
from storefront.errors import InvalidCredentials
from storefront.models import PasswordResetToken, User
from storefront.uow import UnitOfWork

RESET_TOKEN_LIFETIME = timedelta(hours=1)


async def register(session: UnitOfWork, data: UserRegister) -> User:
    """A new customer, and their welcome email queued in the same transaction."""
    user = await accounts.create(session, data)
    await session.queue_email(
        "welcome",
        to=user.email,
        context={"user": {"username": user.username, "full_name": user.full_name}},
    )
    return user


@dataclass(frozen=True, slots=True)
class Verified:
    """Credentials that matched: whose, the hash they matched, and its upgrade if outdated."""

    user_id: int
    verified_hash: str
    new_hash: str | None


async def verify_credentials(database: Database, limits: AuthLimits, login: str, password: str) -> Verified:
    """The active account with these credentials, else `InvalidCredentials`.

    The attempt is counted toward the login limits *before* the password is
    checked, atomically, so however many guesses arrive at once no more than
    the limits allow are ever checked; a success is then uncounted. The
    per-account counter is the account's (its email and username share it).

    The lookup uses a short read session that is closed before the hashing, so
    no connection (and on SQLite no write lock) is held meanwhile. Unknown and
    disabled accounts pay for exactly one hash too, so neither the answer nor
    its timing tells them apart from a wrong password.
    """
    async with database.read_session() as reader:
        user = await repository.user_by_login(reader, login)
    attempt = await limits.begin_login(account_key(user.id if user is not None else None, login))
    stored = user.password_hash if user is not None else None
    valid, new_hash = await verify_password(password, stored)
    if user is None or stored is None or not valid or not user.is_active:
        raise InvalidCredentials()
    await attempt.succeeded()
    return Verified(user.id, stored, new_hash)


async def authenticate(session: UnitOfWork, database: Database, limits: AuthLimits, login: str, password: str) -> User:
    """The active user with these credentials, loaded in `session`, else `InvalidCredentials`.

    The credentials are checked through a short read session of `database`;
    an outdated hash is upgraded in `session`, which reads nothing before the
    password has been checked.
    """
    verified = await verify_credentials(database, limits, login, password)
    user = await repository.get_user(session, verified.user_id)
    if user is None or not user.is_active:  # disabled in the moment since the check
        raise InvalidCredentials()
    if verified.new_hash is not None:
        await _rehash(session, user, verified.verified_hash, verified.new_hash)
    return user


async def log_in(
    session: UnitOfWork,
    database: Database,
    settings: Settings,
    limits: AuthLimits,
    login: str,
    password: str,
    *,
    user_agent: str | None,
) -> TokenPair:
    """Check the credentials (failures count toward the login limits), then start a session."""
    user = await authenticate(session, database, limits, login, password)
    return await sessions.start(session, settings, user, user_agent=user_agent)


async def _rehash(session: UnitOfWork, user: User, verified_hash: str, new_hash: str) -> None:
    """Store the upgraded hash unless the password changed meanwhile.

    The row lock re-reads the user: a concurrent login that upgraded first, or
    a password change, leaves a different hash, which is then kept as it is.
    """
    await repository.lock_user(session, user)
    if user.password_hash == verified_hash:
        user.password_hash = new_hash
        await session.flush()


async def change_password(
    session: UnitOfWork, user: User, session_id: int, current: str, new: str, limits: AuthLimits
) -> None:
    """Set a new password, given the current one; every other session ends."""
    attempt = await limits.begin_login(account_key(user.id, user.username))
    valid, _ = await verify_password(current, user.password_hash)
    if not valid:
        raise WrongPassword()
    await attempt.succeeded()
    accounts.check_password(new, email=user.email, username=user.username)
    new_hash = await hash_password(new)
    await repository.lock_user(session, user)
    user.password_hash = new_hash
    await sessions.end_all(session, user, keep=session_id)
    await repository.use_up_reset_tokens(session, user.id)


async def request_password_reset(session: UnitOfWork, limits: AuthLimits, email: str) -> None:
    """Email a single-use reset token (valid one hour) if an active account has this address.

    The caller answers the same whether or not one does.
    """
    await limits.password_reset(email)
    user = await repository.user_by_email(session, email)
    if user is None or not user.is_active:
        return
    token = new_secret()
    now = utcnow()
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=digest(token), created_at=now, expires_at=now + RESET_TOKEN_LIFETIME
        )
    )
    await session.queue_email(
        "password_reset",
        to=user.email,
        context={"user": {"username": user.username, "full_name": user.full_name}, "token": token},
    )


async def confirm_password_reset(session: UnitOfWork, token: str, new: str) -> None:
    """Set a new password with a reset token, which is used up; every session ends."""
    user_id = await repository.redeem_reset_token(session, digest(token))
    user = await repository.get_user(session, user_id, for_update=True) if user_id is not None else None
    if user is None or not user.is_active:
        raise InvalidResetToken()
    accounts.check_password(new, email=user.email, username=user.username)
    user.password_hash = await hash_password(new)
    await sessions.end_all(session, user)
    await repository.use_up_reset_tokens(session, user.id)
