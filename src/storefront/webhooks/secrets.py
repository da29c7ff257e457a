"""Signing secrets: made, sealed for the database, and used to sign a delivery.

A secret is `whsec_` and 32 random bytes in base64, as Standard Webhooks
writes them, and is signed with by the `standardwebhooks` library. The
database keeps it sealed (`kit.secretbox`, a key derived from `SECRET_KEY`):
after changing `SECRET_KEY`, rotate every endpoint's secret.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Final

from standardwebhooks.webhooks import Webhook

from storefront.kit.secretbox import SecretBox

PREFIX: Final = "whsec_"
PURPOSE: Final = b"storefront webhook signing secrets v1"


def box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, PURPOSE)


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature(signing: list[str], message_id: str, timestamp: datetime, payload: str) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret, separated by spaces (two during a rotation)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, payload) for secret in signing)
