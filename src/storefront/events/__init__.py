"""Live events: the event log, fan-out across processes, WebSocket and SSE streams."""
