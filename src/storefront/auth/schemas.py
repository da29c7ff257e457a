from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, EmailStr, Field, model_validator

from storefront.auth.passwords import MAX_LENGTH, MIN_LENGTH
from storefront.kit.identity import identity_key
from storefront.kit.schemas import Id, InputModel, ReadModel, Verbatim
from storefront.models import Role

Username = Annotated[str, Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_]{3,50}$", examples=["ada_l"])]
# Stored as its identity key (NFKC, case folded): look-alike addresses are one account.
Email = Annotated[EmailStr, AfterValidator(identity_key), Field(max_length=320, examples=["ada@example.com"])]
# Length and strength rules are checked by `accounts.check_password`, which answers
# with the reason (422 `weak_password`); the document states the same 12..128.
# Kept exactly as typed (`Verbatim`, where other text is stripped): spaces around a
# password are part of it, and the OAuth2 form (which strips nothing) sends them too.
Password = Annotated[
    str,
    Verbatim,
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


class LoginRequest(InputModel):
    """Log in with a username or an email address (either field) and a password."""

    # The document says what `_one_login` checks: `password` and at least one of the
    # other two (the only other properties there are), neither null nor blank (as
    # InputModel says of text with a `min_length`). Said with `minProperties`: a
    # top-level `anyOf` makes generated clients (openapi-python-client) model the
    # body as a union of partial types without `password`.
    model_config = ConfigDict(json_schema_extra={"minProperties": 2})
    not_nullable = frozenset({"username", "email"})

    username: str | None = Field(None, min_length=1, max_length=320, examples=["ada_l"])
    email: str | None = Field(None, min_length=1, max_length=320)
    password: Password

    @model_validator(mode="after")
    def _one_login(self) -> LoginRequest:
        if not (self.username or self.email):
            raise ValueError("give `username` or `email`")
        return self

    @property
    def login(self) -> str:
        return self.username or self.email or ""


class TokenPair(ReadModel):
    access_token: str = Field(max_length=2048)
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(ge=1, le=24 * 3600, description="Seconds until the access token expires.")
    refresh_token: str = Field(max_length=256, description="Single use: `POST /auth/refresh` trades it for a new pair.")


class RefreshRequest(InputModel):
    refresh_token: Annotated[str, Verbatim] = Field(min_length=1, max_length=256, examples=["3q2-7w...refresh-token"])


class PasswordChange(InputModel):
    current_password: Password
    new_password: Password


class PasswordResetRequest(InputModel):
    email: Email


class PasswordResetConfirm(InputModel):
    token: Annotated[str, Verbatim] = Field(min_length=1, max_length=256, examples=["the-token-from-the-email"])
    new_password: Password


class Accepted(ReadModel):
    detail: str = Field(max_length=500)


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=100, examples=["nightly export"])


class ApiKeyRead(ReadModel):
    id: Id
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, description="The first characters of the key, to recognise it by.")
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ReadModel):
    id: Id
    name: str = Field(max_length=100)
    key: str = Field(max_length=128, description="The secret key; shown this once and never again.")
    prefix: str = Field(max_length=16)
    created_at: datetime
