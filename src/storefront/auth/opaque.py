"""Opaque secrets (refresh tokens, reset tokens, API keys) and their stored form.

They carry 256 random bits, so one SHA-256 is a safe stored form: there is
nothing to guess that a slow hash would protect (argon2 is for passwords).
"""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
