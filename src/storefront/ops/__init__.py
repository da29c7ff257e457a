"""Operational endpoints: health, readiness and the offline API docs."""
