"""Dead sessions go (their refresh tokens with them); so do expired reset tokens.

A revoked session is kept `RETENTION_DAYS`: reuse detection and the audit of
who was logged in need it for a while.
"""

from sqlalchemy import delete, or_

from storefront.kit.retention import Rule
from storefront.models.session import AuthSession, PasswordResetToken

RULES = (
    Rule(
        "sessions",
        lambda h: delete(AuthSession).where(or_(AuthSession.expires_at < h.now, AuthSession.revoked_at < h.cutoff)),
    ),
    Rule("reset_tokens", lambda h: delete(PasswordResetToken).where(PasswordResetToken.expires_at < h.now)),
)
