"""The audit log over HTTP: who among staff and admins changed what (`storefront.trail` writes it)."""
