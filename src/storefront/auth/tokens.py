"""Access tokens: short-lived JWTs signed with one pinned algorithm.

Claims: `sub` (user id), `iat`, `exp`, `jti`, `typ` ("access"), `sid` (the
login session, checked on every request so that logging out works at once)
and `ver` (the user's token version, which is what still guards a token
minted without a session).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from storefront.config import Settings
from storefront.db import utcnow

ACCESS = "access"
# Ids are positive 32-bit integers everywhere (paths, columns): a claim outside
# that range names nobody, and must not reach the database (a 40-digit `sub`
# overflowed the driver's integer: a 500).
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    token_version: int
    jti: str
    session_id: int | None = None


def issue_access_token(
    settings: Settings, user_id: int, token_version: int, session_id: int | None = None
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = utcnow()
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS,
        "ver": token_version,
    }
    if session_id is not None:
        payload["sid"] = session_id
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
        sid = payload.get("sid")
        if sid is not None and not _is_id(sid):
            return None
        sub, version = payload["sub"], payload.get("ver", 0)
        if not isinstance(sub, str) or not sub.isascii() or not sub.isdigit() or not _is_id(int(sub)):
            return None
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= MAX_ID:
            return None
        return AccessClaims(user_id=int(sub), token_version=version, jti=str(payload["jti"]), session_id=sid)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
