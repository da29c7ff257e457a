from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request, WebSocket, WebSocketDisconnect, status
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.websockets import WebSocketDisconnected

from storefront.auth.dependencies import SessionPrincipal
from storefront.broker import StreamCounter, TooManyStreams
from storefront.context import AppContext, WriteSession, app_context
from storefront.contract import api_router, plain_router
from storefront.db import utcnow
from storefront.errors import InvalidToken, NotAuthenticated
from storefront.events import service
from storefront.events.schemas import TicketRead
from storefront.events.stream import (
    Listener,
    SessionEnded,
    client_address,
    events_for,
    stream_listener,
)
from storefront.events.websocket import CloseSocket, close, parse_json, receive_text
from storefront.kit.openapi import problems

router = api_router("/events", tags=["events"])
ws_router = plain_router(tags=["events"])

# Frames, not one JSON document: the stream is text, its frames described in words.
STREAM_RESPONSE = {
    "description": (
        "A `text/event-stream` that stays open. Each event is one frame: `id: <event id>`, "
        "`event: <type>` and `data: <the event as one line of JSON>`, then a blank line. The JSON is "
        '`{"id", "type", "created_at", "data"}`, as on the WebSocket; the `id` is what '
        "`Last-Event-ID` takes on reconnecting."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}

Since = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Replay events after this id first.")]


async def _stream_listener(request: Request) -> Listener:
    listener = await stream_listener(request)
    if listener is None:
        sent = "authorization" in request.headers or "ticket" in request.query_params
        raise InvalidToken("The token or ticket is invalid, expired or used.") if sent else NotAuthenticated()
    return listener


async def _stream_slot(
    listener: Annotated[Listener, Depends(_stream_listener)], request: Request
) -> AsyncIterator[Listener]:
    """The listener, holding a slot of their address and one of theirs until the response ends (429 if none)."""
    counter = app_context(request).streams
    with counter.per_address.hold(client_address(request)), counter.per_user.hold(listener.user.id):
        yield listener


StreamListener = Annotated[Listener, Depends(_stream_slot, scope="request")]


@router.post("/ticket", status_code=201, response_model=TicketRead, responses=problems(401, 403))
async def create_ticket(principal: SessionPrincipal, session: WriteSession) -> TicketRead:
    """A single-use ticket (valid 60 s) of this login session, to open a stream without a token in the URL."""
    ticket, lifetime = await service.issue_ticket(session, principal.user, principal.session_id)
    return TicketRead(ticket=ticket, expires_in=lifetime)


@router.get(
    "",
    response_class=EventSourceResponse,
    responses={200: STREAM_RESPONSE, **problems(401, 429)},
)
async def stream_events(
    listener: StreamListener,
    request: Request,
    since: Since = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**63 - 1)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: `id:` is the event id; `Last-Event-ID` replays what was missed."""
    context = app_context(request)
    with contextlib.suppress(SessionEnded):  # the stream ends with its login session
        async for event in events_for(context, listener, last_event_id if last_event_id is not None else since):
            yield ServerSentEvent(raw_data=event.model_dump_json(), id=str(event.id), event=event.type)


@contextlib.asynccontextmanager
async def _guarded(websocket: WebSocket) -> AsyncIterator[StreamCounter]:
    """An accepted socket holding one of its address's slots; a refusal becomes its close code."""
    # Accepted before any refusal: a close code reaches the client only on an
    # open socket (a refused handshake is a bare HTTP 403 to browsers).
    await websocket.accept()
    counter = app_context(websocket).streams
    try:
        with counter.per_address.hold(client_address(websocket)):
            yield counter
    except TooManyStreams as refused:
        await close(websocket, status.WS_1013_TRY_AGAIN_LATER, refused.detail)
    except CloseSocket as closing:
        await close(websocket, closing.code, closing.reason)
    except WebSocketDisconnect:
        pass  # the client left


@ws_router.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    """Each text message comes back with the server's time."""
    async with _guarded(websocket):
        while True:
            text = await receive_text(websocket)
            await websocket.send_json({"echo": text, "server_time": utcnow().isoformat()})


@ws_router.websocket("/ws/events")
async def websocket_events(websocket: WebSocket, since: Since = None) -> None:
    """Pushes events as JSON; `?since=` replays missed ones; `{"type":"ping"}` gets a pong."""
    async with _guarded(websocket) as counter:
        listener = await stream_listener(websocket)
        if listener is None:
            raise CloseSocket(status.WS_1008_POLICY_VIOLATION, "invalid credentials")
        with counter.per_user.hold(listener.user.id):
            await _pump(websocket, app_context(websocket), listener, since)


async def _pump(websocket: WebSocket, context: AppContext, listener: Listener, since: int | None) -> None:
    """Send events and answer pings until the client leaves, its session ends
    (close 1008), the server shuts down (1001) or a message is refused."""

    async def send_events() -> None:
        try:
            async for event in events_for(context, listener, since):
                await websocket.send_text(event.model_dump_json())
        except SessionEnded:
            raise CloseSocket(status.WS_1008_POLICY_VIOLATION, "session ended") from None
        # The broker ended the stream: the server is shutting down.
        raise CloseSocket(status.WS_1001_GOING_AWAY, "server shutting down")

    async def answer_pings() -> None:
        while True:
            payload = parse_json(await receive_text(websocket))
            if isinstance(payload, dict) and payload.get("type") == "ping":
                await websocket.send_json({"type": "pong"})

    tasks = [asyncio.create_task(send_events()), asyncio.create_task(answer_pings())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # The one that finished says how the socket closes; a client that left needs no close.
    for task in done:
        error = task.exception()
        if error is not None and not isinstance(error, WebSocketDisconnect | WebSocketDisconnected):
            raise error
