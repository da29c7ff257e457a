"""Password hashing (argon2id, off the event loop) and the NIST SP 800-63B rules."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the account is unknown, so that answer costs one hash too.
_DUMMY_HASH = _hasher.hash("storefront-timing-equaliser")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; also returns a new hash when the stored one is outdated.

    No hash, or one that is no hash at all (an erased account's `!`), never
    matches, and costs the same one hash as a wrong password.
    """
    if password_hash is not None:
        try:
            return await anyio.to_thread.run_sync(_hasher.verify_and_update, password, password_hash)
        except UnknownHashError:
            pass
    await anyio.to_thread.run_sync(_hasher.verify, password, _DUMMY_HASH)
    return False, None


@lru_cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("storefront.data").joinpath("common-passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, *, email: str | None = None, username: str | None = None) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in _common_passwords():
        return "The password is too common; choose one that is not on lists of leaked passwords."
    if len(set(password)) == 1:
        return "The password must not repeat a single character."
    for name, value in (("email address", email), ("username", username)):
        if value and lowered in {value.lower(), value.lower().split("@")[0]}:
            return f"The password must not be your {name}."
    return None
