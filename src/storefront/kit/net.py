"""Outbound URLs that may be called: `https://` to public addresses only.

A URL given by a user (a webhook endpoint) could point the server at itself or
its network: the loopback, a private range, the cloud metadata service at
169.254.169.254. `check_url` refuses those by the addresses the host name
resolves to, not by its spelling, and the caller connects to one of the
addresses it returned, so a name that resolves to a public address when
checked and to a private one a second later (DNS rebinding) never reaches the
private one. `allow_private` (development and tests) lets `http://` and every
address through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

# host, port -> the addresses it resolves to (tests give their own).
Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


class UnsafeURL(ValueError):
    """The URL may not be called; the message says why."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as the operating system resolves them."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress) -> str | None:
    """Why a request may not go to `address`, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in SHARED_ADDRESS_SPACE, "a shared (carrier-grade NAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the addresses it may be reached at."""

    url: httpx.URL
    addresses: tuple[str, ...]

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL with the host replaced by its first checked address, the `Host`
        header to send, and the request extensions that keep TLS checking the
        certificate against the host name."""
        host = self.url.host
        headers = {"Host": self.url.netloc.decode("ascii")}
        extensions = {"sni_hostname": host} if self.url.scheme == "https" else {}
        return self.url.copy_with(host=self.addresses[0]), headers, extensions


def parse_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL, if its form may be called: `https://` (or `http://` with
    `allow_private`), a host, no credentials."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:  # UnicodeError is a ValueError
        raise UnsafeURL(f"not a URL: {str(exc)[:200]}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise UnsafeURL("the URL must start with https://")
    if not parsed.host:
        raise UnsafeURL("the URL has no host")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UnsafeURL("not a URL: a port is 1 to 65535")
    if parsed.userinfo:
        raise UnsafeURL("the URL may not hold a user name or password")
    return parsed


async def check_url(url: str, resolver: Resolver, *, allow_private: bool) -> Target:
    """The URL and the addresses to reach it at, or `UnsafeURL` saying why not."""
    parsed = parse_url(url, allow_private=allow_private)
    host = parsed.host if len(parsed.host) <= 100 else f"{parsed.host[:97]}..."  # as messages show it
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(parsed.host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = await resolver(parsed.host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"{host} does not resolve ({str(exc)[:200]})") from None
        if not found:
            raise UnsafeURL(f"{host} does not resolve")
    addresses = [ipaddress.ip_address(address.split("%")[0]) for address in found]
    if not allow_private:
        for address in addresses:
            if (reason := refusal(address)) is not None:
                # One bad address is enough: a client may be handed any of them.
                raise UnsafeURL(f"{host} resolves to {address}, {reason}")
    return Target(parsed, tuple(str(address) for address in addresses))
