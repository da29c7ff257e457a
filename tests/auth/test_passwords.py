"""Password rules (NIST SP 800-63B) and argon2id hashing off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from storefront.auth import passwords
from storefront.auth.passwords import CURRENT_HASHER, hash_password, password_problem, verify_password


@pytest.mark.parametrize(
    "password",
    ["violet-otter-marmalade-42", "b" + "a1" * 5 + "c", "x" * 64 + "y" * 64, "  two spaces around  "],
)
def test_acceptable_passwords_have_no_problem(password: str) -> None:
    assert password_problem(password, email="ada@example.com", username="ada_l") is None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "at least 12"),
        ("a1b2c3d4e5f", "at least 12"),
        ("x" * 64 + "y" * 65, "at most 128"),
        ("cookiemonster", "too common"),
        ("COOKIEMONSTER", "too common"),
        ("qqqqqqqqqqqqqqqq", "single character"),
        ("ada.lovelace@example.com", "email address"),
        ("ADA.LOVELACE", "email address"),
        ("Ada_Lovelace_1815", "username"),
    ],
)
def test_weak_passwords_come_with_the_reason(password: str, reason: str) -> None:
    problem = password_problem(password, email="ada.lovelace@example.com", username="ada_lovelace_1815")

    assert problem is not None
    assert reason in problem


async def test_hashes_are_argon2id_and_verify() -> None:
    hashed = await hash_password("violet-otter-marmalade-42")

    assert hashed.startswith("$argon2id$")
    assert await verify_password("violet-otter-marmalade-42", hashed) == (True, None)
    assert (await verify_password("violet-otter-marmalade-43", hashed))[0] is False


async def test_an_outdated_hash_comes_back_with_a_current_one() -> None:
    outdated = Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("violet-otter-marmalade-42")

    valid, new_hash = await verify_password("violet-otter-marmalade-42", outdated)

    assert valid
    assert new_hash is not None
    assert not CURRENT_HASHER.check_needs_rehash(new_hash)
    assert PasswordHash((CURRENT_HASHER,)).verify("violet-otter-marmalade-42", new_hash)


@pytest.mark.parametrize("stored", [None, "!", "", "plain-text-password"])
async def test_a_missing_or_unusable_hash_never_matches(stored: str | None) -> None:
    assert await verify_password("plain-text-password", stored) == (False, None)


class _ThreadRecorder:
    """Wraps the hasher and notes the thread each call runs in."""

    def __init__(self, hasher: PasswordHash) -> None:
        self.hasher = hasher
        self.threads: list[int] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.hasher, name)

        def recorded(*args: Any) -> Any:
            self.threads.append(threading.get_ident())
            return method(*args)

        return recorded


async def test_hashing_and_verifying_run_off_the_event_loop_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _ThreadRecorder(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", recorder)

    hashed = await hash_password("violet-otter-marmalade-42")
    await verify_password("violet-otter-marmalade-42", hashed)
    await verify_password("violet-otter-marmalade-42", None)

    assert len(recorder.threads) == 3
    assert threading.get_ident() not in recorder.threads


async def test_hashing_runs_at_most_one_per_spare_core_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = 0, 0, threading.Lock()

    class SlowHasher:
        def hash(self, password: str) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return "hashed"

    monkeypatch.setattr(passwords, "_hasher", SlowHasher())
    await asyncio.gather(*(passwords.hash_password(f"password-{n}") for n in range(8)))
    assert peak == passwords._HASHING_SLOTS
