"""Orders: placing them without overselling, and their lifecycle."""
