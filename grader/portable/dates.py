"""`MY_RANDOM_SEED` is the student's birthdate as one integer YYYYMMDD."""
from __future__ import annotations

import datetime


def date_problem(value: int, year_now: int) -> str | None:
    """Why `value` is not a birthdate YYYYMMDD between 1900 and `year_now`, or None."""
    text = str(value)
    if value < 0 or len(text) != 8:
        return f"{value} has {len(text)} digits, not 8 (YYYYMMDD)"
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not 1900 <= year <= year_now:
        return f"the year {year} is not between 1900 and {year_now}"
    try:
        datetime.date(year, month, day)
    except ValueError as exc:
        return f"{year}-{text[4:6]}-{text[6:]} is not a calendar date ({exc})"
    return None
