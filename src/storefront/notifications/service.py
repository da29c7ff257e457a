"""Reading the outbox (emails are queued through the unit of work: `uow.queue_email`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from storefront.models import Email, EmailStatus


def search(status: EmailStatus | None) -> Select[Email]:
    query = select(Email)
    return query if status is None else query.where(Email.status == status)
