"""Stored idempotent responses live 24 hours."""

from sqlalchemy import delete

from storefront.kit.retention import Rule
from storefront.models import IdempotencyRecord

RULES = (Rule("idempotency_keys", lambda h: delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= h.now)),)
