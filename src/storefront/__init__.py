"""Storefront: a production-ready commerce API on FastAPI."""

__version__ = "0.1.0"
