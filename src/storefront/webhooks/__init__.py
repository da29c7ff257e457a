"""Outbound webhooks: endpoints of other systems, and signed deliveries of events to them."""
