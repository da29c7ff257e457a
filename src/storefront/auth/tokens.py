"""Access tokens: short-lived JWTs signed with one pinned algorithm.

Claims: `sub` (user id), `iat`, `exp`, `jti`, `typ` ("access") and `sid` (the
login session, checked on every request so that logging out works at once).
A token without `sid` is refused: no logout could end it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from storefront.config import Settings
from storefront.db import utcnow
from storefront.kit.schemas import MAX_ID

ACCESS = "access"
# Ids are positive 32-bit integers everywhere (paths, columns, kit.schemas.MAX_ID):
# a claim outside that range names nobody, and must not reach the database (a
# 40-digit `sub` overflowed the driver's integer: a 500).


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    jti: str


def issue_access_token(settings: Settings, user_id: int, session_id: int) -> tuple[str, int]:
    """A signed access token of login session `session_id`, and its lifetime in seconds."""
    now = utcnow()
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS,
        "sid": session_id,
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
            options={"require": ["exp", "iat", "sub", "jti", "sid"]},
        )
        if payload.get("typ") != ACCESS:
            return None
        sub, sid = payload["sub"], payload["sid"]
        if not isinstance(sub, str) or not sub.isascii() or not sub.isdigit() or not _is_id(int(sub)):
            return None
        if not _is_id(sid):
            return None
        return AccessClaims(user_id=int(sub), session_id=sid, jti=str(payload["jti"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
