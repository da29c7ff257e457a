from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket, WebSocketDisconnect, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from storefront.auth.dependencies import CurrentUser
from storefront.db import Database, SessionDep, utcnow
from storefront.errors import InvalidToken, NotAuthenticated
from storefront.events import service
from storefront.events.schemas import TicketRead
from storefront.events.stream import StreamCounter, events_for, stream_user
from storefront.kit.openapi import problems
from storefront.kit.routing import api_router
from storefront.models import User

router = api_router("/events", tags=["events"])
ws_router = APIRouter(tags=["events"])

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


async def _stream_listener(request: Request) -> User:
    user = await stream_user(request)
    if user is None:
        sent = "authorization" in request.headers or "ticket" in request.query_params
        raise InvalidToken("The token or ticket is invalid, expired or used.") if sent else NotAuthenticated()
    return user


async def _stream_slot(user: Annotated[User, Depends(_stream_listener)], request: Request) -> AsyncIterator[User]:
    """The listener, holding one of their stream slots until the response ends (429 when none is free)."""
    counter: StreamCounter = request.app.state.stream_counter
    with counter.hold(user.id):
        yield user


StreamListener = Annotated[User, Depends(_stream_slot, scope="request")]


@router.post("/ticket", status_code=201, response_model=TicketRead, responses=problems(401))
async def create_ticket(user: CurrentUser, session: SessionDep) -> TicketRead:
    """A single-use ticket (valid 60 s) to open a stream without putting a token in a URL."""
    ticket, lifetime = await service.issue_ticket(session, user)
    return TicketRead(ticket=ticket, expires_in=lifetime)


@router.get(
    "",
    response_class=EventSourceResponse,
    responses={200: STREAM_RESPONSE, **problems(401, 429)},
)
async def stream_events(
    user: StreamListener,
    request: Request,
    since: Since = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**63 - 1)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: `id:` is the event id; `Last-Event-ID` replays what was missed."""
    database: Database = request.app.state.database
    async for event in events_for(database, user, last_event_id if last_event_id is not None else since):
        yield ServerSentEvent(raw_data=event.model_dump_json(), id=str(event.id), event=event.type)


@ws_router.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    """Each text message comes back with the server's time."""
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await websocket.receive_text()
            await websocket.send_json({"echo": text, "server_time": utcnow().isoformat()})


@ws_router.websocket("/ws/events")
async def websocket_events(websocket: WebSocket, since: Since = None) -> None:
    """Pushes events as JSON; `?since=` replays missed ones; `{"type":"ping"}` gets a pong."""
    # Accepted before any refusal: a close code reaches the client only on an
    # open socket (a refused handshake is a bare HTTP 403 to browsers).
    await websocket.accept()
    user = await stream_user(websocket)
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid credentials")
        return
    counter: StreamCounter = websocket.app.state.stream_counter
    if not counter.acquire(user.id):
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="too many streams")
        return
    try:
        await _pump(websocket, websocket.app.state.database, user, since)
    finally:
        counter.release(user.id)


async def _pump(websocket: WebSocket, database: Database, user: User, since: int | None) -> None:
    """Send events until the client leaves or the server shuts down (close 1001)."""

    async def send_events() -> None:
        async for event in events_for(database, user, since):
            await websocket.send_text(event.model_dump_json())
        # The broker ended the stream: the server is shutting down.
        await websocket.close(code=status.WS_1001_GOING_AWAY)

    async def answer_pings() -> None:
        while True:
            message = await websocket.receive_text()
            with contextlib.suppress(ValueError):
                payload = json.loads(message)
                if isinstance(payload, dict) and payload.get("type") == "ping":
                    await websocket.send_json({"type": "pong"})

    sender = asyncio.create_task(send_events())
    receiver = asyncio.create_task(answer_pings())
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
        for task in (sender, receiver):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
