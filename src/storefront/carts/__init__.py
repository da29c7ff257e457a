"""Carts: baskets held by a token, priced live, checked out into orders."""
