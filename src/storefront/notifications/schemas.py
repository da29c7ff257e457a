from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field

from storefront.kit.schemas import InputModel, ReadModel
from storefront.models import EmailStatus


class EmailCreate(InputModel):
    to: Annotated[EmailStr, Field(examples=["ada@example.com"])]
    # One header line: a CR or LF would end the Subject header (header injection).
    subject: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]*$", examples=["Your parcel"])]
    body: Annotated[str, Field(max_length=10_000, examples=["It left our warehouse today."])]


class EmailQueued(ReadModel):
    id: int
    status: Literal["queued"] = "queued"


class EmailRead(ReadModel):
    id: int
    to: str
    subject: str
    status: EmailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
