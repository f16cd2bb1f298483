"""Calendar arithmetic on ISO dates (``YYYY-MM-DD``), as the events carry them."""

from datetime import date, timedelta


def days_after(day, days):
    """The ISO date ``days`` days after ``day`` (before it, for a negative number)."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
