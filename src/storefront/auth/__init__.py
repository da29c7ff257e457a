"""Accounts and who the caller is: creating an account, passwords, login sessions,
tokens and API keys."""
