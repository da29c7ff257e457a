"""Only `https://` to public addresses: refused when an endpoint is saved, and
again at every send against what its host resolves to then (DNS rebinding)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from storefront.config import Settings
from storefront.database import Database
from storefront.kit.net import refusal, system_resolver
from storefront.models import WebhookAttempt
from tests.factories import Actor
from tests.webhooks.conftest import WEBHOOKS, FakeDNS, api_client, deliveries, eventually, running_worker

PUBLIC = "93.184.215.14"
# Each class of address a webhook may not reach, in IPv4 and IPv6.
UNSAFE = {
    "loopback": "127.0.0.1",
    "loopback, another": "127.10.20.30",
    "loopback, IPv6": "::1",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.20.0.5",
    "private 192.168/16": "192.168.1.10",
    "unique local IPv6": "fd12:3456:789a::1",
    "link-local (cloud metadata)": "169.254.169.254",
    "link-local IPv6": "fe80::1",
    "carrier-grade NAT": "100.64.0.1",
    "multicast": "224.0.0.251",
    "multicast IPv6": "ff02::1",
    "unspecified": "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "unspecified IPv6": "::",
    "IPv4-mapped IPv6 loopback": "::ffff:127.0.0.1",
    "IPv4-mapped IPv6 metadata": "::ffff:169.254.169.254",
    "documentation range": "192.0.2.1",
    "broadcast": "255.255.255.255",
}


@pytest.fixture
async def strict_api(settings: Settings, dns: FakeDNS, database: Database) -> AsyncIterator[AsyncClient]:
    """The app as in production: `WEBHOOK_ALLOW_PRIVATE` off."""
    async with api_client(settings, dns) as client:
        yield client


async def _create(api: AsyncClient, admin: Actor, url: str) -> tuple[int, dict[str, Any]]:
    response = await api.post(WEBHOOKS, json={"url": url, "events": ["*"]}, headers=admin.headers)
    return response.status_code, response.json()


@pytest.mark.parametrize("address", list(UNSAFE.values()), ids=list(UNSAFE))
async def test_a_name_resolving_to_an_unsafe_address_is_refused_at_save(
    strict_api: AsyncClient, admin: Actor, dns: FakeDNS, address: str
) -> None:
    dns.names["hooks.example.com"] = [address]
    status, body = await _create(strict_api, admin, "https://hooks.example.com/in")
    assert status == 422
    assert body["code"] == "unsafe_url"
    assert address.split("%")[0] in str(body["detail"]) or "resolves to" in str(body["detail"])
    listed = await strict_api.get(WEBHOOKS, headers=admin.headers)
    assert listed.json() == []


@pytest.mark.parametrize("address", list(UNSAFE.values()), ids=list(UNSAFE))
async def test_an_unsafe_address_written_in_the_url_is_refused_at_save(
    strict_api: AsyncClient, admin: Actor, address: str
) -> None:
    host = f"[{address}]" if ":" in address else address
    status, body = await _create(strict_api, admin, f"https://{host}/in")
    assert (status, body["code"]) == (422, "unsafe_url")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "must start with https://"),
        ("https://user:secret@hooks.example.com/in", "user name or password"),
        ("https://nowhere.example.com/in", "does not resolve"),
        ("https://hooks.example.com:99999/in", "not a URL"),
    ],
)
async def test_urls_of_the_wrong_form_are_refused_at_save(
    strict_api: AsyncClient, admin: Actor, dns: FakeDNS, url: str, reason: str
) -> None:
    dns.names["hooks.example.com"] = [PUBLIC]
    status, body = await _create(strict_api, admin, url)
    assert (status, body["code"]) == (422, "unsafe_url")
    assert reason in str(body["detail"])


async def test_one_unsafe_address_among_public_ones_is_enough_to_refuse(
    strict_api: AsyncClient, admin: Actor, dns: FakeDNS
) -> None:
    dns.names["hooks.example.com"] = [PUBLIC, "10.0.0.8"]
    status, body = await _create(strict_api, admin, "https://hooks.example.com/in")
    assert (status, body["code"]) == (422, "unsafe_url")
    assert "10.0.0.8" in str(body["detail"])


async def test_a_public_address_is_accepted_and_a_change_to_an_unsafe_one_refused(
    strict_api: AsyncClient, admin: Actor, dns: FakeDNS
) -> None:
    dns.names["hooks.example.com"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    dns.names["inside.example.com"] = ["10.0.0.8"]
    status, body = await _create(strict_api, admin, "https://hooks.example.com/in")
    assert status == 201
    moved = await strict_api.patch(
        f"{WEBHOOKS}/{body['id']}", json={"url": "https://inside.example.com/in"}, headers=admin.headers
    )
    assert (moved.status_code, moved.json()["code"]) == (422, "unsafe_url")
    kept = await strict_api.get(f"{WEBHOOKS}/{body['id']}", headers=admin.headers)
    assert kept.json()["url"] == "https://hooks.example.com/in"


@pytest.mark.parametrize("address", list(UNSAFE.values()), ids=list(UNSAFE))
async def test_a_name_that_turns_unsafe_after_saving_is_refused_at_send(
    strict_api: AsyncClient, admin: Actor, dns: FakeDNS, settings: Settings, address: str
) -> None:
    """DNS rebinding: public when checked at save, private when the worker sends."""
    dns.names["hooks.example.com"] = [PUBLIC]
    status, body = await _create(strict_api, admin, "https://hooks.example.com/in")
    assert status == 201
    dns.names["hooks.example.com"] = [address]
    sent = await strict_api.post(f"{WEBHOOKS}/{body['id']}/test", headers=admin.headers)
    assert sent.status_code == 202
    fast = settings.model_copy(update={"worker_poll_seconds": 0.05, "webhook_retry_base_seconds": 60.0})

    async with running_worker(fast, dns):
        [delivery] = await eventually(lambda: _tried(strict_api, admin, int(body["id"])))

    assert delivery["status"] == "pending"  # retried later, when the name may be safe again
    assert delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("unsafe_url: hooks.example.com resolves to")


async def _tried(api: AsyncClient, admin: Actor, webhook_id: int) -> list[dict[str, object]]:
    found = await deliveries(api, admin, webhook_id)
    return found if found and found[0]["last_error"] else []  # attempts count from the lease, errors after


async def test_the_check_at_send_connects_to_the_address_it_checked(
    api: AsyncClient, admin: Actor, dns: FakeDNS, hook_settings: Settings, database: Database
) -> None:
    """The worker connects to the address it resolved and checked, sending the
    name as `Host`: a second lookup by the HTTP client cannot swap it."""
    from tests.webhooks.receiver import running_receiver

    with running_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        dns.names["hooks.example.com"] = ["127.0.0.1"]
        created = await api.post(
            WEBHOOKS, json={"url": f"http://hooks.example.com:{port}/pinned", "events": ["*"]}, headers=admin.headers
        )
        assert created.status_code == 201
        await api.post(f"{WEBHOOKS}/{created.json()['id']}/test", headers=admin.headers)
        async with running_worker(hook_settings, dns):
            [request] = await receiver.wait_for("/pinned")
    assert request.headers["host"] == f"hooks.example.com:{port}"
    async with database.read_session() as session:
        [attempt] = list(await session.scalars(select(WebhookAttempt)))
    assert attempt.status_code == 200


def test_every_unsafe_class_is_named_and_public_addresses_pass() -> None:
    import ipaddress

    for address in UNSAFE.values():
        assert refusal(ipaddress.ip_address(address)) is not None, address
    for address in (PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"):
        assert refusal(ipaddress.ip_address(address)) is None, address


async def test_the_system_resolver_resolves_localhost() -> None:
    assert "127.0.0.1" in await system_resolver("localhost", 443) or "::1" in await system_resolver("localhost", 443)
