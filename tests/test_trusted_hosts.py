"""TRUSTED_HOSTS: a request for another host gets 403, over HTTP and WebSocket alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import websockets
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError
from websockets.exceptions import InvalidStatus

from storefront.config import Settings
from storefront.main import create_app
from tests.conftest import LiveServer
from tests.users.helpers import assert_problem


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with TRUSTED_HOSTS as an operator would write it."""
    return Settings(**(settings.model_dump() | {"trusted_hosts": "Shop.Example, *.cdn.example"}))


@pytest.mark.parametrize("host", ["shop.example", "SHOP.example:8443", "shop.example.", "img.cdn.example"])
async def test_a_trusted_host_is_served(client: AsyncClient, host: str) -> None:
    response = await client.get("/api/v1/products", headers={"Host": host})

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("path", ["/health", "/ready"])
async def test_the_probes_answer_any_host(client: AsyncClient, path: str) -> None:
    # Kubernetes probes and the image's HEALTHCHECK call by address (10.1.2.3:8000, 127.0.0.1).
    response = await client.get(path, headers={"Host": "10.1.2.3:8000"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "shop.example.evil.example", "evilshop.example", "cdn.example", "shop.example@evil", ""]
)
@pytest.mark.parametrize("path", ["/metrics", "/api/v1/products", "/admin/", "/api/v1/auth/login"])
async def test_another_host_gets_403_problem_json(client: AsyncClient, host: str, path: str) -> None:
    response = await client.get(path, headers={"Host": host}, follow_redirects=False)

    body = assert_problem(response, 403, "untrusted_host")
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "location" not in response.headers


async def test_a_websocket_for_another_host_is_refused(live_server: LiveServer) -> None:
    port = live_server.url.rsplit(":", 1)[1]

    async with websockets.connect(f"ws://shop.example:{port}/ws/echo", host="127.0.0.1") as ws:
        await ws.send("hi")
        assert "hi" in str(await ws.recv())
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"ws://evil.example:{port}/ws/echo", host="127.0.0.1"):
            pass

    assert refused.value.response.status_code == 403
    assert b"untrusted_host" in refused.value.response.body


class TestTheSetting:
    @pytest.fixture(autouse=True)
    def _no_env(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.chdir(tmp_path)  # no .env
        monkeypatch.delenv("TRUSTED_HOSTS", raising=False)

    def test_it_is_off_by_default(self) -> None:
        assert Settings().trusted_hosts == []

    def test_it_reads_a_comma_separated_list_or_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TRUSTED_HOSTS", "shop.example, *.Shop.example,[::1]")
        assert Settings().trusted_hosts == ["shop.example", "*.shop.example", "[::1]"]
        monkeypatch.setenv("TRUSTED_HOSTS", '["shop.example"]')
        assert Settings().trusted_hosts == ["shop.example"]

    @pytest.mark.parametrize("value", ["https://shop.example", "shop.example:443", "shop.*.example", "*", "a b"])
    def test_a_bad_entry_stops_the_start(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        monkeypatch.setenv("TRUSTED_HOSTS", value)
        with pytest.raises(ValidationError, match="trusted_hosts"):
            Settings()


async def test_without_the_setting_any_host_is_served(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"trusted_hosts": []}))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        assert (await client.get("/health", headers={"Host": "evil.example"})).status_code == 200
