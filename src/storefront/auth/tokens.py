"""Access tokens: short-lived JWTs signed with one pinned algorithm.

Claims: `sub` (user id), `iat`, `exp`, `jti`, `typ` ("access") and `ver`
(the user's token version, so that revoking every session is one update).
Refresh tokens and sessions add a `sid` claim in their own module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from storefront.config import Settings
from storefront.db import utcnow

ACCESS = "access"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    token_version: int
    jti: str


def issue_access_token(settings: Settings, user_id: int, token_version: int) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = utcnow()
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    payload = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS,
        "ver": token_version,
    }
    token = jwt.encode(payload, settings.signing_key(), algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def read_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The claims of a valid access token, or None for anything else."""
    try:
        payload = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[settings.jwt_algorithm],  # pinned: never trust the header's alg
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
        if payload.get("typ") != ACCESS:
            return None
        return AccessClaims(user_id=int(payload["sub"]), token_version=int(payload.get("ver", 0)), jti=payload["jti"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
