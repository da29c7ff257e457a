"""Payments: the provider interface the order rules call, its adapters, and the payment record."""
