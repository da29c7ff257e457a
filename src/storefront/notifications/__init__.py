"""Email notifications: written in the outbox with the change, delivered by the worker."""
