"""Delivery: SMTP (aiosmtplib) when `SMTP_URL` is set, else `.eml` files in `var/mail/`."""

from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import anyio.to_thread

from storefront.config import Settings
from storefront.db import utcnow
from storefront.models import Email


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def message_key(email: Email) -> str:
    """Stable for one outbox row across retries; unique across databases in practice."""
    return f"email-{email.id}-{email.created_at:%Y%m%dT%H%M%S%f}"


def build_message(email: Email, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    # One id per outbox row: a retried delivery carries the same Message-ID,
    # so a receiving server or client can drop the duplicate.
    message["Message-ID"] = f"<{message_key(email)}@storefront.local>"
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    return message


class FileMailer:
    """Writes each message as an `.eml` file: nothing is lost in development."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        await anyio.to_thread.run_sync(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Named by Message-ID: a repeated delivery of one email rewrites one file.
        message_id = str(message["Message-ID"]).strip("<>").split("@")[0]
        final = self.directory / f"{message_id}.eml"
        # Write then rename: a reader never sees half a message.
        fd, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        Path(temp).replace(final)


class SmtpMailer:
    """`smtp://[user:pass@]host[:port][?starttls=true|false]` or `smtps://` (implicit TLS)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465")
        options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
        self.hostname = parts.hostname
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        starttls = options.get("starttls")
        # None lets aiosmtplib use STARTTLS when the server offers it.
        self.start_tls: bool | None = None if starttls is None else starttls in ("1", "true", "yes")
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=False if self.use_tls else self.start_tls,
            timeout=self.timeout,
        )


def mailer_from_settings(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.smtp_timeout_seconds)
    return FileMailer(settings.mail_dir)
