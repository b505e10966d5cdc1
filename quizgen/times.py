"""One way to show a moment: local time, ``2026-03-05 14:07``, with "in 3 days" where a due date is
meant. The database keeps ISO timestamps in UTC; only what is shown is converted."""

from __future__ import annotations

from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%d %H:%M"


def parse_time(value: str | None) -> datetime | None:
    """An ISO timestamp as an aware datetime (naive ones are taken as UTC); None if it does not parse."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def format_time(value: str | datetime | None) -> str:
    """``value`` in the user's local time zone, as ``2026-03-05 14:07``."""
    moment = value if isinstance(value, datetime) else parse_time(value)
    if moment is None:
        return str(value or "unknown time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime(TIME_FORMAT)


def _span(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "less than a minute"


def format_due(value: str | datetime | None, now: datetime | None = None) -> str:
    """When something is due: ``now``, or ``2026-03-05 14:07 (in 3 days)``."""
    moment = value if isinstance(value, datetime) else parse_time(value)
    if moment is None:
        return format_time(value)
    now = now or datetime.now(UTC)
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "now"
    return f"{format_time(moment)} (in {_span(seconds)})"
