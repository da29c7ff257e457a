"""Text search helpers."""


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character `\\`) matching `text` anywhere, literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
