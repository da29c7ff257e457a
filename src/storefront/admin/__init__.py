"""The admin UI at /admin (sqladmin): admins only, every asset served by this app."""
