from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from storefront.kit.schemas import InputModel, ReadModel
from storefront.users.schemas import Email, Password


class LoginRequest(InputModel):
    """Log in with a username or an email address (either field) and a password."""

    username: str | None = Field(None, max_length=320, examples=["ada_l"])
    email: str | None = Field(None, max_length=320)
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
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: `POST /auth/refresh` trades it for a new pair.")


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=256, examples=["3q2-7w...refresh-token"])


class PasswordChange(InputModel):
    current_password: Password
    new_password: Password


class PasswordResetRequest(InputModel):
    email: Email


class PasswordResetConfirm(InputModel):
    token: str = Field(min_length=1, max_length=256, examples=["the-token-from-the-email"])
    new_password: Password


class Accepted(ReadModel):
    detail: str


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=100, examples=["nightly export"])


class ApiKeyRead(ReadModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it by.")
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ReadModel):
    id: int
    name: str
    key: str = Field(description="The secret key; shown this once and never again.")
    prefix: str
    created_at: datetime
