from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from storefront.auth.dependencies import AdminUser
from storefront.context import ReadSession, SessionDep, WriteSession
from storefront.contract import api_router
from storefront.errors import NotFound
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, fetch, with_page_headers
from storefront.kit.schemas import MAX_ID
from storefront.models import Email, EmailStatus
from storefront.notifications import service
from storefront.notifications.schemas import EmailCreate, EmailQueued, EmailRead

router = api_router("/notifications", tags=["notifications"], responses=problems(401, 403))


class EmailNotFound(NotFound):
    code = "notification_not_found"

    def default_detail(self) -> str:
        return "No such notification."


async def _email(email_id: Annotated[int, Path(ge=1, le=MAX_ID)], _: AdminUser, session: SessionDep) -> Email:
    email = await session.get(Email, email_id)
    if email is None:
        raise EmailNotFound()
    return email


ValidEmail = Annotated[Email, Depends(_email)]


@router.post("/email", status_code=202, response_model=EmailQueued, responses=problems(422))
async def send_email(body: EmailCreate, _: AdminUser, session: WriteSession, response: Response) -> EmailQueued:
    """Queue an email; the worker delivers it (at least once, with retries)."""
    email = await service.queue(session, to=str(body.to), subject=body.subject, text=body.body)
    response.headers["Location"] = f"/api/v1/notifications/{email.id}"
    return EmailQueued(id=email.id)


@router.get("", response_model=list[EmailRead], responses=problems(422))
async def list_emails(
    _: AdminUser,
    session: ReadSession,
    page: PageDep,
    request: Request,
    response: Response,
    status: EmailStatus | None = None,
) -> list[Email]:
    """Queued and delivered emails, newest first."""
    query = service.search(status).order_by(Email.id.desc())
    return with_page_headers(request, response, await fetch(session, query, page))


@router.get("/{email_id}", response_model=EmailRead, responses=problems(404, 422))
async def read_email(email: ValidEmail) -> Email:
    """One email: its status, attempts and last error."""
    return email
