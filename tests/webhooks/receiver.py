"""An integrator's webhook receiver: a real HTTP server on loopback, answering as scripted.

Each path has a script of answers, one per request, then 200 for ever: a status
code, `HANG` (answers nothing until the test ends), `Redirect(location)` or
`Big(status)` (a body of 1 MiB). Every request is recorded with its headers,
body and arrival time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = "hang"


@dataclass(frozen=True)
class Redirect:
    location: str


@dataclass(frozen=True)
class Big:
    status: int = 200


Answer = int | str | Redirect | Big


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


@dataclass
class Receiver:
    url: str
    scripts: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, path: str, *answers: Answer) -> str:
        """Answer requests to `path` so, in turn; the endpoint URL to subscribe."""
        self.scripts[path] = list(answers)
        return f"{self.url}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.received if request.path == path]

    async def wait_for(self, path: str, count: int = 1, within: float = 15.0) -> list[Received]:
        """The requests to `path` once there are `count` of them (the event loop runs on meanwhile)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(found := self.at(path)) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.at(path))} of {count} requests within {within} s")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                )
                script = receiver.scripts[self.path]
                answer: Answer = script.pop(0) if script else 200
            if answer == HANG:
                receiver.release.wait(60)
                return
            if isinstance(answer, Redirect):
                self._answer(302, b"moved", {"Location": answer.location})
            elif isinstance(answer, Big):
                self._answer(answer.status, b"x" * (1 << 20))
            else:
                assert isinstance(answer, int)
                self._answer(answer, b'{"ok": true}' if answer < 300 else b"receiver error")

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the sender stopped reading
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(url="")), bind_and_activate=False)
    server.daemon_threads = True
    server.request_queue_size = 128  # the default backlog of 5 refuses bursts of parallel deliveries
    server.server_bind()
    server.server_activate()
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
