"""Sent emails are kept `RETENTION_DAYS`; failed ones until someone looks at them."""

from sqlalchemy import delete

from storefront.kit.retention import Rule
from storefront.models import Email, EmailStatus

RULES = (Rule("emails", lambda h: delete(Email).where(Email.status == EmailStatus.sent, Email.sent_at < h.cutoff)),)
