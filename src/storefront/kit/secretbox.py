"""Secrets the app must read back (webhook signing secrets), stored sealed.

Sealed with Fernet (AES-128-CBC and an HMAC-SHA256, from `cryptography`)
under a key derived from `SECRET_KEY` by HKDF, so a dump of the database
alone reveals none of them. Changing `SECRET_KEY` makes what was sealed
unreadable: `open` then says so, and the secrets must be made again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealedWithAnotherKey(ValueError):
    pass


class SecretBox:
    def __init__(self, secret_key: str, purpose: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise SealedWithAnotherKey("sealed under another SECRET_KEY: make the secret again") from None
