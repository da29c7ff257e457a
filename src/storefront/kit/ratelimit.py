"""Rate limits with the `limits` library, in memory or in Redis.

Most policies count in a moving window. Those that guard a costly check whose
good outcomes must not count (a password check: successful logins count toward
no limit) are *reserved*: each attempt takes one unit of a fixed window
atomically before the check, so however many arrive at once no more than the
quota are ever checked, and a good outcome gives its unit back. A fixed window
can be refunded (an atomic increment by -1); a moving window cannot.

With `REDIS_URL` every worker process and replica shares the counters; without
it each process counts alone. Over a limit the caller gets 429 `rate_limited`
with `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers of the
IETF draft (structured fields: `q` quota, `w` window, `r` remaining, `t`
seconds until reset).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.storage import storage_from_string

from storefront.config import Settings
from storefront.errors import RateLimited
from storefront.log import get_logger

log = get_logger("storefront.ratelimit")


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    item: RateLimitItem
    # Counted with `reserve`/`release` in a fixed window, never with `take`/`hit`.
    reserved: bool = False

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.item.amount};w={self.item.get_expiry()}'


RESERVED = frozenset({"login-account", "login-address"})


def policies(settings: Settings) -> dict[str, Policy]:
    named = {
        "login-account": settings.rate_limit_login_account,
        "login-address": settings.rate_limit_login_address,
        "register": settings.rate_limit_register,
        "password-reset": settings.rate_limit_password_reset,
        "default": settings.rate_limit_default,
    }
    return {name: Policy(name, parse(text), reserved=name in RESERVED) for name, text in named.items() if text}


@dataclass(frozen=True, slots=True)
class Reservation:
    """One unit of a reserved policy, held by the attempt that took it."""

    policy: Policy
    identity: tuple[str, ...]


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        self.policies = policies(settings)
        if settings.redis_url:
            uri = "async+" + settings.redis_url
            storage = storage_from_string(uri, implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        assert isinstance(storage, Storage)
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.fixed = FixedWindowRateLimiter(storage)

    def has(self, name: str) -> bool:
        return self.enabled and name in self.policies

    async def check(self, name: str, *identity: str) -> None:
        """Refuse (429) when `identity` has used up `name`'s quota; count nothing."""
        if self.has(name) and not await self._ask(self.strategy.test, name, identity):
            raise await self._refusal(name, identity)

    async def hit(self, name: str, *identity: str) -> None:
        """Count one use (e.g. a failed login); no refusal even if it was the last."""
        if self.has(name):
            await self._ask(self.strategy.hit, name, identity)

    async def take(self, name: str, *identity: str) -> None:
        """Count one use, refusing (429) when none is left."""
        if self.has(name) and not await self._ask(self.strategy.hit, name, identity):
            raise await self._refusal(name, identity)

    async def reset(self, name: str, *identity: str) -> None:
        if self.has(name):
            await self._ask(self.strategy.clear, name, identity)

    async def reserve(self, name: str, *identity: str) -> Reservation | None:
        """Take one unit of a reserved policy before the attempt it limits,
        refusing (429) when none is left; None when the policy is off.

        The take is one atomic increment, so concurrent attempts (in any
        number of processes sharing Redis) never take more than the quota.
        """
        if not self.has(name):
            return None
        policy = self.policies[name]
        if not await self._ask(self.fixed.hit, name, identity):
            raise await self._refusal(name, identity)
        return Reservation(policy, identity)

    async def release(self, reservation: Reservation | None) -> None:
        """Give a unit back: the attempt turned out not to count (a successful login)."""
        if reservation is None:
            return
        item = reservation.policy.item
        key = item.key_for(*reservation.identity)
        try:
            await self.storage.incr(key, item.get_expiry(), amount=-1)
        except Exception as exc:  # as in `_ask`: a store outage costs at most one unit
            log.warning("rate_limit_store_unavailable", policy=reservation.policy.name, error=type(exc).__name__)

    async def _ask(self, call: Callable[..., Awaitable[Any]], name: str, identity: tuple[str, ...]) -> Any:
        """Ask the counter store; when it is unreachable (Redis down), let the
        request through and say so in the log: limits protect the service, an
        outage of theirs must not take the service down with it."""
        try:
            return await call(self.policies[name].item, *identity)
        except Exception as exc:  # the store's errors vary by backend and driver
            log.warning("rate_limit_store_unavailable", policy=name, error=type(exc).__name__)
            return True

    async def _refusal(self, name: str, identity: tuple[str, ...]) -> RateLimited:
        policy = self.policies[name]
        strategy = self.fixed if policy.reserved else self.strategy
        stats = await strategy.get_window_stats(policy.item, *identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return RateLimited(
            "Too many requests; try again later.",
            headers={
                "Retry-After": str(wait),
                "RateLimit-Policy": policy.header,
                "RateLimit": f'"{name}";r={max(0, stats.remaining)};t={wait}',
            },
        )
