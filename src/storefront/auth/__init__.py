"""Authentication: passwords, tokens and who the caller is."""
