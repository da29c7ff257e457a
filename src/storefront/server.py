"""How `storefront serve` runs the app: uvicorn, with three changes.

- Headers must arrive in time (`HeaderDeadlineProtocol`).
- Streams end politely. uvicorn closes open WebSockets with 1012 before the app
  hears of shutdown (the ASGI lifespan event comes last). Storefront's contract
  is 1001 ("going away"), so `StorefrontServer` first has the broker of the app
  it serves end every stream: each socket closes with 1001 and each SSE response
  finishes. Then uvicorn's own graceful shutdown proceeds.
- Several workers share the load (`Supervisor`). uvicorn's supervisor shares one
  listening socket between its workers, and whichever wakes first accepts:
  under keep-alive one worker kept most of the connections. Here each worker
  binds a socket of its own with SO_REUSEPORT, and Linux spreads new
  connections over them by a hash of the addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from storefront.context import AppContext, context_of
from storefront.main import create_app

DEFAULT_HEADER_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
logger = logging.getLogger("uvicorn.error")


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
        # Only the streams end here: the broker keeps hearing other processes
        # (cache evictions) while requests drain; the lifespan closes it last.
        self.app_context.broker.close_all()
        if self.server_state.connections:
            await asyncio.sleep(0.05)  # let the close frames go out
        await super().shutdown(sockets)


class Supervisor:
    """Keeps `config.workers` worker processes serving until SIGTERM or SIGINT.

    A worker listens on its socket only once its lifespan startup is done, so
    a worker (re)starting is sent no connections it cannot answer yet. A worker
    that dies is replaced; one that fails to start stops the supervisor, as it
    would fail the same way each time. On SIGTERM or SIGINT every worker gets
    SIGTERM and drains; the supervisor exits when they all have.
    """

    def __init__(self, config: StorefrontConfig) -> None:
        self.config = config
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def run(self) -> None:
        _claim_port(self.config)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        self.workers = [self._start_worker() for _ in range(self.config.workers)]
        logger.info(
            "Supervisor [%d] running %d workers on http://%s:%d",
            os.getpid(), len(self.workers), self.config.host, self.config.port,
        )  # fmt: skip
        while not self.stopping:
            wait([worker.sentinel for worker in self.workers], timeout=0.5)
            self._replace_dead_workers()
        self._stop_workers()

    def _start_worker(self) -> BaseProcess:
        worker = multiprocessing.get_context("spawn").Process(
            target=_serve_worker, args=(self.config, os.getpid()), name="storefront-worker"
        )
        worker.start()
        return worker

    def _replace_dead_workers(self) -> None:
        for index, worker in enumerate(self.workers):
            if worker.exitcode is None or self.stopping:
                continue
            if worker.exitcode == STARTUP_FAILURE:
                logger.error("Worker [%d] failed to start; stopping.", worker.pid)
                self._stop_workers()
                sys.exit(STARTUP_FAILURE)
            logger.warning("Worker [%d] died (exit code %d); starting another.", worker.pid, worker.exitcode)
            self.workers[index] = self._start_worker()

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_workers(self) -> None:
        for worker in self.workers:
            if worker.exitcode is None:
                worker.terminate()  # SIGTERM: the worker drains, bounded by timeout_graceful_shutdown
        for worker in self.workers:
            worker.join()
        logger.info("Supervisor [%d] stopped", os.getpid())


def _claim_port(config: StorefrontConfig) -> None:
    """Fail now if the address is taken, and turn a port of 0 into the one the system picks.

    The check binds without SO_REUSEPORT, so it fails on any socket already
    there, the workers of another Storefront included: with the option on,
    two servers would share the port without a word.
    """
    with _bind(config, reuse_port=False) as probe:
        config.port = probe.getsockname()[1]


def _bind(config: StorefrontConfig, *, reuse_port: bool) -> socket.socket:
    """A socket bound to the configured address, not yet listening; exits on failure as uvicorn does."""
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        logger.error(exc)
        sys.exit(STARTUP_FAILURE)
    return sock


def _serve_worker(config: StorefrontConfig, supervisor: int) -> None:
    """A worker process: serve on a socket of its own until SIGTERM."""
    _exit_with_supervisor(supervisor)
    config.configure_logging()
    # Ctrl+C reaches every process of the group, and uvicorn re-raises the
    # SIGINT once it has drained: the worker's end, not an error to print.
    with contextlib.suppress(KeyboardInterrupt):
        StorefrontServer(config).run(sockets=[_bind(config, reuse_port=True)])


def _exit_with_supervisor(supervisor: int) -> None:
    """Have Linux send this process SIGTERM when the supervisor dies: killed
    outright (SIGKILL, the OOM killer), it leaves no worker serving on."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def run(config: StorefrontConfig) -> None:
    """Serve until SIGTERM or SIGINT: in this process, or in `config.workers` worker processes."""
    if config.workers > 1:
        Supervisor(config).run()
    else:
        StorefrontServer(config).run()
