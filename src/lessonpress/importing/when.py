"""Read the dates archives write: RFC 822 (RSS, mail), ISO 8601 (Atom, JSON Feed, exports), WordPress' local times."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime


def read_date(text: str | None) -> datetime | None:
    """A date from an archive's field, or None when it holds none that can be read."""
    value = (text or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 and value[10] == " " else value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
