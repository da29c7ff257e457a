from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from storefront.auth import accounts
from storefront.auth.dependencies import AdminUser, CurrentUser
from storefront.auth.schemas import UserRead
from storefront.context import DatabaseDep, ReadSession, WriteSession
from storefront.contract import api_router
from storefront.kit.etag import make_etag, require_match, unless_modified
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, Sort, sort_dependency, with_page_headers
from storefront.models import Role, User
from storefront.users import export, service
from storefront.users.dependencies import AdminUpdate, SelfUpdate, VisibleUser, WritableSelf, WritableUser
from storefront.users.schemas import UserCreate

router = api_router("/users", tags=["users"], responses=problems(401))

UserSort = Annotated[Sort, Depends(sort_dependency(list(service.SORTABLE), "id"))]


def _etag(user: User) -> str:
    return make_etag("user", user.id, user.version)


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser, response: Response) -> User:
    """The caller's own account."""
    response.headers["ETag"] = _etag(user)
    return user


@router.patch("/me", response_model=UserRead, responses=problems(403, 409, 412, 422))
async def update_me(
    body: SelfUpdate, user: WritableSelf, session: WriteSession, request: Request, response: Response
) -> User:
    """Change the caller's own name, email or username (the email only with a bearer token from a login)."""
    require_match(request, _etag(user))
    user = await service.update(session, user, body)
    response.headers["ETag"] = _etag(user)
    return user


async def _filters(
    role: Role | None = None,
    is_active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Email or username contains.")] = None,
) -> service.UserFilters:
    return service.UserFilters(role=role, is_active=is_active, q=q)


UserFiltersDep = Annotated[service.UserFilters, Depends(_filters)]


@router.get("", response_model=list[UserRead], responses=problems(403, 422))
async def list_users(
    _: AdminUser,
    session: ReadSession,
    filters: UserFiltersDep,
    page: PageDep,
    sort: UserSort,
    request: Request,
    response: Response,
) -> list[User]:
    """All users, for admins."""
    return with_page_headers(request, response, await service.list_users(session, filters, page, sort))


@router.post("", status_code=201, response_model=UserRead, responses=problems(403, 409, 422))
async def create_user(body: UserCreate, _: AdminUser, session: WriteSession, response: Response) -> User:
    """Create a user with any role."""
    user = await accounts.create(session, body, role=body.role)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    response.headers["ETag"] = _etag(user)
    return user


# Declared before `/{user_id}`, which would otherwise claim the path.
@router.get("/export.csv", responses={200: {"content": {"text/csv": {}}}, **problems(403)})
async def export_users(_: AdminUser, database: DatabaseDep) -> StreamingResponse:
    """All users as CSV (`id,email,username,full_name,role,is_active,created_at`), streamed."""
    return export.users_response(database)


@router.get("/{user_id}", response_model=UserRead, responses=problems(404, 422))
async def read_user(user: VisibleUser, request: Request, response: Response) -> User | Response:
    """One user: admins see anyone, others only themselves."""
    return unless_modified(request, response, _etag(user)) or user


@router.patch("/{user_id}", response_model=UserRead, responses=problems(403, 404, 409, 412, 422))
async def update_user(
    body: AdminUpdate, _: AdminUser, user: WritableUser, session: WriteSession, request: Request, response: Response
) -> User:
    """Change a user, role and activity included; deactivating ends their sessions."""
    require_match(request, _etag(user))
    user = await service.update(session, user, body)
    response.headers["ETag"] = _etag(user)
    return user


@router.delete("/{user_id}", status_code=204, responses=problems(403, 404, 409, 412))
async def delete_user(_: AdminUser, user: WritableUser, session: WriteSession, request: Request) -> None:
    """Deactivate a user and erase their personal data; their orders stay."""
    require_match(request, _etag(user))
    await service.deactivate_and_erase(session, user)
