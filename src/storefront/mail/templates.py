"""Email bodies from templates: plain text and HTML for each kind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECTS = {
    "welcome": "Welcome to {shop}",
    "order_confirmation": "Your order #{order[id]} is confirmed",
    "order_status": "Your order #{order[id]} is now {order[status]}",
    "order_expired": "Your order #{order[id]} was cancelled: no payment arrived in time",
    "password_reset": "Reset your {shop} password",
    "payment_receipt": "Receipt for your order #{order[id]}",
    "refund_issued": "A refund of {refund[amount]} {order[currency]} on your order #{order[id]}",
    "webhook_disabled": "{shop}: webhook endpoint #{endpoint[id]} was disabled after repeated failures",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("storefront.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any]) -> Rendered:
    return Rendered(
        subject=SUBJECTS[kind].format(**context),
        text=_environment().get_template(f"{kind}.txt").render(context),
        html=_environment().get_template(f"{kind}.html").render(context),
    )
