"""Per-request context that logs and error responses read without plumbing (below `kit`: `errors` and `log` use it)."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)
