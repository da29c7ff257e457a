"""Managing accounts: changing one, deactivating and erasing one, and always
keeping an admin. Services flush, never commit: the request boundary does."""

from __future__ import annotations

from dataclasses import dataclass

from storefront.auth import accounts, sessions
from storefront.auth import repository as auth_repository
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Role, User
from storefront.uow import UnitOfWork
from storefront.users import repository
from storefront.users.errors import LastAdmin
from storefront.users.schemas import UserAdminUpdate, UserSelfUpdate


async def update(session: UnitOfWork, user: User, data: UserSelfUpdate | UserAdminUpdate) -> User:
    changes = data.changes()
    await accounts.ensure_unique(session, email=changes.get("email"), username=changes.get("username"), user_id=user.id)
    deactivating = changes.get("is_active") is False and user.is_active
    if deactivating or changes.get("role", Role.admin) != Role.admin:
        await _keep_an_admin(session, user)
    for field, value in changes.items():
        setattr(user, field, value)
    await accounts.flush_unique(session)
    if deactivating:
        await sessions.end_all(session, user)
    return user


async def deactivate_and_erase(session: UnitOfWork, user: User) -> None:
    """Delete as far as the law asks: personal data goes, orders stay."""
    await _keep_an_admin(session, user)
    user.is_active = False
    # Both placeholders fall outside what anyone can register or take by PATCH
    # (`.invalid` is no email domain, `-` no username character), so erasing
    # never collides with a live account.
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.username = f"deleted-{user.id}"
    user.full_name = None
    user.password_hash = "!"
    await sessions.end_all(session, user)
    await auth_repository.revoke_api_keys(session, user.id)


SORTABLE: dict[str, Sortable] = {
    "id": User.id,
    "email": User.email,
    "username": User.username,
    "created_at": User.created_at,
}


@dataclass(frozen=True, slots=True)
class UserFilters:
    """What a user list is narrowed by; `None` leaves a criterion out."""

    role: Role | None = None
    is_active: bool | None = None
    q: str | None = None


async def list_users(session: UnitOfWork, filters: UserFilters, page: Page, sort: Sort) -> PageOf[User]:
    """One page of every user, narrowed by `filters`, in `sort` order (only admins list users)."""
    query = repository.search(filters.role, filters.is_active, filters.q)
    return await fetch(session, query.order_by(*order_by(SORTABLE[sort.field], sort, User.id)), page)


async def _keep_an_admin(session: UnitOfWork, user: User) -> None:
    """Refuse to take away the last active admin (409 `last_admin`).

    Another admin counts only if their row can be locked until this change
    commits: of two admins removing each other at once, at most one succeeds.
    """
    if not user.is_admin or not user.is_active:
        return
    if not await repository.lock_other_active_admins(session, user.id):
        raise LastAdmin()
