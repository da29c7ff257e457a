"""The OAuth2 password form of `POST /auth/token`, with the bounds every other input has."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.security import OAuth2PasswordRequestForm

from storefront.auth.passwords import MAX_LENGTH, MIN_LENGTH

# As the JSON login's `Password`: any length up to 1024 is looked at (a wrong one
# is 401 like any wrong password); every account's password is 12..128 long.
_PASSWORD_SCHEMA = {"format": "password", "minLength": MIN_LENGTH, "maxLength": MAX_LENGTH}


class PasswordForm(OAuth2PasswordRequestForm):
    def __init__(
        self,
        *,
        username: Annotated[str, Form(min_length=1, max_length=320, description="The username or the email.")],
        password: Annotated[str, Form(min_length=1, max_length=1024, json_schema_extra=_PASSWORD_SCHEMA)],
        grant_type: Annotated[str | None, Form(pattern="^password$", max_length=8)] = None,
        scope: Annotated[str, Form(max_length=1024)] = "",
        client_id: Annotated[str | None, Form(max_length=256)] = None,
        client_secret: Annotated[str | None, Form(max_length=256, json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
