from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from storefront.auth.passwords import MAX_LENGTH, MIN_LENGTH
from storefront.kit.identity import identity_key
from storefront.kit.schemas import Id, InputModel, PatchModel, ReadModel
from storefront.models import Role

Username = Annotated[str, Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_]{3,50}$", examples=["ada_l"])]
# Stored as its identity key (NFKC, case folded): look-alike addresses are one account.
Email = Annotated[EmailStr, AfterValidator(identity_key), Field(max_length=320, examples=["ada@example.com"])]
# Length and strength rules are checked by the service, which answers with the reason
# (422 `weak_password`); the document states the same 12..128 (auth/passwords.py).
# Kept exactly as typed: stripping spaces would store a different password than
# the one the OAuth2 form (which strips nothing) later sends.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    Field(
        min_length=1,
        max_length=1024,
        examples=["correct horse battery staple"],
        json_schema_extra={"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH},
    ),
]
FullName = Annotated[str, Field(max_length=200, examples=["Ada Lovelace"])]


class UserRead(ReadModel):
    id: Id
    email: Annotated[str, Field(max_length=320)]
    username: Annotated[str, Field(max_length=50)]  # an erased user's is `deleted-<id>`
    full_name: FullName | None
    role: Role
    is_active: bool
    created_at: datetime


class UserRegister(InputModel):
    email: Email
    username: Username
    password: Password
    full_name: FullName | None = None


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
