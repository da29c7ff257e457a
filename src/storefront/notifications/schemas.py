from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, EmailStr, Field

from storefront.kit.schemas import Count, Id, InputModel, ReadModel, some_text_pattern
from storefront.models import EmailStatus

# A delivery error is the SMTP server's words, as long as it likes: the API shows their start.
LAST_ERROR_MAX = 1000


def _shortened(text: object) -> object:
    return text[: LAST_ERROR_MAX - 1] + "…" if isinstance(text, str) and len(text) > LAST_ERROR_MAX else text


class EmailCreate(InputModel):
    to: Annotated[EmailStr, Field(max_length=320, examples=["ada@example.com"])]
    # One header line: a CR or LF would end the Subject header (header injection).
    # Not blank either, as InputModel checks (its pattern for text with a `min_length`).
    subject: Annotated[
        str, Field(min_length=1, max_length=200, pattern=some_text_pattern(forbidden="\r\n"), examples=["Your parcel"])
    ]
    body: Annotated[str, Field(max_length=10_000, examples=["It left our warehouse today."])]


class EmailQueued(ReadModel):
    id: Id
    status: Literal["queued"] = "queued"


class EmailRead(ReadModel):
    id: Id
    to: Annotated[str, Field(max_length=320)]
    subject: Annotated[str, Field(max_length=200)]
    status: EmailStatus
    attempts: Count
    last_error: Annotated[str, BeforeValidator(_shortened), Field(max_length=LAST_ERROR_MAX)] | None
    created_at: datetime
    sent_at: datetime | None
