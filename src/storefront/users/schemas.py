from __future__ import annotations

from typing import Annotated

from pydantic import Field

from storefront.auth.schemas import Email, FullName, Username, UserRegister
from storefront.kit.schemas import PatchModel
from storefront.models import Role


class UserCreate(UserRegister):
    role: Role = Role.customer


class UserSelfUpdate(PatchModel):
    not_nullable = frozenset({"email", "username", "role", "is_active"})

    email: Email | None = None
    username: Username | None = None
    full_name: FullName | None = None


class UserAdminUpdate(UserSelfUpdate):
    role: Role | None = None
    is_active: Annotated[bool, Field(strict=True)] | None = None  # JSON `true`/`false`, not 0 or "yes"
