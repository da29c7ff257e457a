from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from storefront.kit.schemas import InputModel, ReadModel
from storefront.users.schemas import Password


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
    expires_in: int
    refresh_token: str | None = None
