"""Reading the outbox (emails are queued through the unit of work: `uow.queue_email`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from storefront.models import Email, EmailStatus
from storefront.uow import UnitOfWork


async def queue(session: UnitOfWork, *, to: str, subject: str, text: str) -> Email:
    """An email written by hand, in the outbox and numbered (its id is the caller's `Location`)."""
    email = await session.queue_message(to=to, subject=subject, text=text)
    await session.flush()
    return email


def search(status: EmailStatus | None) -> Select[Email]:
    query = select(Email)
    return query if status is None else query.where(Email.status == status)
