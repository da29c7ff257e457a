"""Password hashing (argon2id, off the event loop) and the NIST SP 800-63B rules."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, lru_cache
from importlib import resources
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

T = TypeVar("T")
MIN_LENGTH = 12
MAX_LENGTH = 128

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~25 ms
# and 19 MiB a hash here, where pwdlib's default (64 MiB, 3 passes, 4 lanes) costs
# ~100 ms of CPU and 64 MiB. Hashes made with other parameters are upgraded on
# the next successful login (`verify_and_update`).
CURRENT_HASHER = Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_hasher = PasswordHash((CURRENT_HASHER,))
# Hashing is CPU-bound: it gets its own small pool of long-lived threads, one per
# spare core, running at a lower scheduling priority. A burst of logins queues
# there instead of starving the event loop (and every other request) of CPU,
# and a fixed set of threads keeps the allocator from holding 19 MiB per thread
# that ever hashed.
_HASHING_SLOTS = max(1, (os.cpu_count() or 2) - 1)


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):  # per-thread nice: Linux only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


@cache
def _executor() -> ThreadPoolExecutor:
    """The process's hashing pool, made at the first hash (threads die with the process)."""
    return ThreadPoolExecutor(_HASHING_SLOTS, thread_name_prefix="password-hash", initializer=_lower_priority)


@cache
def _dummy_hash() -> str:
    """Verified against when the account is unknown, so that answer costs one hash too."""
    return _hasher.hash("storefront-timing-equaliser")


def _verify_dummy(password: str) -> bool:
    return _hasher.verify(password, _dummy_hash())


async def _in_thread(function: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


async def hash_password(password: str) -> str:
    return await _in_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; also returns a new hash when the stored one is outdated.

    No hash, or one that is no hash at all (an erased account's `!`), never
    matches, and costs the same one hash as a wrong password.
    """
    if password_hash is not None:
        try:
            return await _in_thread(_hasher.verify_and_update, password, password_hash)
        except UnknownHashError:
            pass
    await _in_thread(_verify_dummy, password)
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
