"""Queueing emails in the outbox, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import after_commit, utcnow
from storefront.models import Email, EmailStatus
from storefront.notifications.templates import render


async def queue(
    session: AsyncSession, *, to: str, subject: str, text: str, html: str | None = None, kind: str = "message"
) -> Email:
    """Add an email to the outbox; the worker is woken once the transaction commits."""
    email = Email(
        kind=kind,
        to=to,
        subject=subject,
        body_text=text,
        body_html=html,
        status=EmailStatus.queued,
        attempts=0,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
    )
    session.add(email)
    await session.flush()
    database = session.info.get("database")
    wake = getattr(database, "on_email_queued", None)
    if wake is not None:
        after_commit(session, wake)
    return email


async def queue_template(session: AsyncSession, kind: str, *, to: str, context: dict[str, Any]) -> Email:
    database = session.info.get("database")
    shop = database.settings.app_name if database is not None else "Storefront"
    rendered = render(kind, {"shop": shop, **context})
    return await queue(session, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html, kind=kind)


def search(status: EmailStatus | None) -> Select[Email]:
    query = select(Email)
    return query if status is None else query.where(Email.status == status)
