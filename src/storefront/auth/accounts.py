"""Creating an account, and the rules every account keeps: a unique email and
username, and a password that passes `passwords.password_problem`.

Services flush, never commit: the request boundary does.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storefront.auth import repository
from storefront.auth.errors import EmailTaken, UsernameTaken, WeakPassword
from storefront.auth.passwords import hash_password, password_problem
from storefront.auth.schemas import UserRegister
from storefront.models import Role, User
from storefront.uow import UnitOfWork


def check_password(password: str, *, email: str, username: str) -> None:
    """Refuse a new password that breaks the rules (422 `weak_password`, saying why)."""
    if (problem := password_problem(password, email=email, username=username)) is not None:
        raise WeakPassword(problem)


async def create(session: UnitOfWork, data: UserRegister, *, role: Role = Role.customer) -> User:
    """A new active account with `role` (409 when its email or username is taken)."""
    check_password(data.password, email=data.email, username=data.username)
    await ensure_unique(session, email=data.email, username=data.username, user_id=None)
    user = User(
        email=data.email,
        username=data.username,
        full_name=data.full_name,
        role=role,
        is_active=True,
        password_hash=await hash_password(data.password),
    )
    session.add(user)
    await flush_unique(session)
    return user


async def ensure_unique(session: UnitOfWork, *, email: str | None, username: str | None, user_id: int | None) -> None:
    """Refuse an email or username that an account other than `user_id` has (409)."""
    if email is not None and await repository.email_taken(session, email, excluding=user_id):
        raise EmailTaken()
    if username is not None and await repository.username_taken(session, username, excluding=user_id):
        raise UsernameTaken()


async def flush_unique(session: UnitOfWork) -> None:
    """Flush, answering a clash with the unique indexes as `ensure_unique` would."""
    # Two racing requests can both pass the checks; the unique index decides.
    try:
        await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig).lower()
        raise (UsernameTaken() if "username" in message else EmailTaken()) from exc
