"""uvicorn, taught to end event streams politely before it shuts down.

uvicorn closes open WebSockets with 1012 before the app hears of shutdown (the
ASGI lifespan event comes last). Storefront's contract is 1001 ("going
away"), so the server first has the broker of the app it serves end every
stream: each socket closes with 1001 and each SSE response finishes. Then
uvicorn's own graceful shutdown proceeds.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import multiprocess

from storefront.context import AppContext, context_of
from storefront.main import create_app

DEFAULT_HEADER_TIMEOUT = 10.0


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers.

    uvicorn bounds only the idle time between requests, and the first byte of
    a request cancels even that: a client that opens connections and drips
    header bytes (slowloris) holds each of them forever. Here the headers of a
    request must be complete within `header_timeout` seconds of the
    connection opening or of the request's first byte, else the connection
    closes.
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = config.header_timeout if isinstance(config, StorefrontConfig) else DEFAULT_HEADER_TIMEOUT
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class StorefrontConfig(uvicorn.Config):
    """uvicorn's configuration for serving `create_app()`, plus the header deadline.

    It is pickled into each worker process, so it holds the app factory, not an
    app: `load_app` builds the app in the process that serves it and keeps it
    as `app`, where `StorefrontServer` finds it.
    """

    def __init__(self, *, header_timeout: float = DEFAULT_HEADER_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(create_app, http=HeaderDeadlineProtocol, **kwargs)
        self.header_timeout = header_timeout

    def load_app(self) -> FastAPI:
        self.app = create_app()
        return self.app


class StorefrontServer(uvicorn.Server):
    """uvicorn's server for one Storefront app, `config.app`."""

    @property
    def app_context(self) -> AppContext:
        app = self.config.app
        assert isinstance(app, Starlette), "a StorefrontServer serves an app built by create_app()"
        return context_of(app)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after its graceful shutdown, so the
        # process dies "killed by SIGTERM". A shutdown that finished its work
        # is a clean exit: 0, as orchestrators and supervisors expect.
        if sig == signal.SIGTERM and sig in self._captured_signals:
            self._captured_signals.remove(sig)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.app_context.broker.close()
        if self.server_state.connections:
            await asyncio.sleep(0.05)  # let the close frames go out
        await super().shutdown(sockets)


class StorefrontProcess(multiprocess.Process):
    """A uvicorn worker process whose server is a `StorefrontServer`.

    The object is pickled into the spawned child, so the child runs this
    class's `server` property too.
    """

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = StorefrontServer(config=self.config)
        return self._server


def run(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does, with `StorefrontServer` in every worker process."""
    if config.workers > 1:
        # uvicorn's supervisor builds its worker processes by this module-level
        # name; only this (parent) process builds them.
        multiprocess.Process = StorefrontProcess  # type: ignore[misc]
        sock = config.bind_socket()
        multiprocess.Multiprocess(config, sockets=[sock]).run()
    else:
        StorefrontServer(config).run()
