"""A Stripe test double: a real HTTP server on loopback speaking the part of Stripe's API that
Storefront calls (create, retrieve and cancel a PaymentIntent; create a Refund), with the
`Idempotency-Key` semantics of the real API, and switches to fail or hang. The SDK reaches
it through `STRIPE_API_BASE`; nothing of the SDK is patched. Webhook deliveries are signed
here exactly as Stripe signs them (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_storefront_double"
WEBHOOK_SECRET = "whsec_test_storefront_double"


@dataclass
class Call:
    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, str]


@dataclass
class StripeDouble:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail_next: int = 0  # answer this many calls 500 (the SDK retries those)
    hang_seconds: float = 0.0  # sleep this long before answering
    refund_status: str = "succeeded"
    _keys: dict[str, tuple[dict[str, str], int, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StripeDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                double._serve(self, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                double._serve(self, dict(parse_qsl(self.rfile.read(length).decode())))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, params: dict[str, str]) -> None:
        key = handler.headers.get("Idempotency-Key")
        with self._lock:
            self.calls.append(Call(handler.command, handler.path, key, params))
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            self._send(handler, 401, {"error": {"type": "invalid_request_error", "message": "bad key"}})
            return
        if failing:
            self._send(handler, 500, {"error": {"type": "api_error", "message": "double told to fail"}})
            return
        with self._lock:
            if key is not None and key in self._keys:
                seen, status, body = self._keys[key]
                if seen != params:
                    error = {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used"}
                    self._send(handler, 400, {"error": error})
                    return
                self._send(handler, status, json.loads(body), replayed=True)
                return
            status, answer = self._answer(handler.command, handler.path, params)
            if key is not None and handler.command == "POST":
                self._keys[key] = (params, status, json.dumps(answer).encode())
        self._send(handler, status, answer)

    def _answer(self, method: str, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "payment_intents"]:
            intent_id = f"pi_{uuid.uuid4().hex[:24]}"
            intent: dict[str, Any] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": int(params["amount"]),
                "amount_received": 0,
                "currency": params["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:16]}",
                "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            }
            self.intents[intent_id] = intent
            return 200, intent
        if parts[:2] == ["v1", "payment_intents"] and len(parts) >= 3 and parts[2] in self.intents:
            intent = self.intents[parts[2]]
            if method == "POST" and parts[3:] == ["cancel"]:
                intent["status"] = "canceled"
            return 200, intent
        if method == "POST" and parts == ["v1", "refunds"]:
            target = self.intents.get(params.get("payment_intent", ""))
            if target is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
            refund_id = f"re_{uuid.uuid4().hex[:24]}"
            refund = {
                "id": refund_id,
                "object": "refund",
                "amount": int(params["amount"]),
                "payment_intent": target["id"],
                "status": self.refund_status,
            }
            self.refunds[refund_id] = refund
            return 200, refund
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL {path}"}}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any], *, replayed: bool = False) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_{uuid.uuid4().hex[:12]}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(data)

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]


def event(type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """A Stripe event delivery's body."""
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-11-17.clover",
        "created": int(time.time()),
        "type": type_,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Stripe sends with `payload`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={mac}", "Content-Type": "application/json; charset=utf-8"}
