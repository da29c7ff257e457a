"""The event log is kept `RETENTION_DAYS` (the replay window); stream tickets until they expire."""

from sqlalchemy import delete

from storefront.kit.retention import Rule
from storefront.models import Event, StreamTicket

RULES = (
    Rule("events", lambda h: delete(Event).where(Event.created_at < h.cutoff)),
    Rule("tickets", lambda h: delete(StreamTicket).where(StreamTicket.expires_at < h.now)),
)
