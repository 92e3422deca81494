"""Partitions as ct-coordinator checks them (contracts/partition.ts): real calendar values.

A daily partition is ``2026-11-21``, an hourly one ``2026-11-21T07``, a monthly one ``2026-11``;
``2026-02-30`` has the shape of a day but is none. The pipeline's own format is checked by the
worker, which owns the config; this module refuses what no pipeline could accept, before any call.
Standard library only, so it loads without Airflow.
"""

from __future__ import annotations

import calendar
import re

EXAMPLES = {"daily": "2026-11-21", "hourly": "2026-11-21T07", "monthly": "2026-11"}

# [0-9], not \d: Python's \d also matches other scripts' digits, JavaScript's does not.
_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}))?)?")


def partition_format_of(value: object) -> str | None:
    """``daily``, ``hourly`` or ``monthly`` for a real calendar partition; ``None`` otherwise."""
    if not isinstance(value, str):
        return None
    m = _SHAPE.fullmatch(value)
    if m is None:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if year < 1 or not 1 <= month <= 12:
        return None
    if m.group(3) is None:
        return "monthly"
    if not 1 <= int(m.group(3)) <= calendar.monthrange(year, month)[1]:
        return None
    if m.group(4) is None:
        return "daily"
    return "hourly" if int(m.group(4)) <= 23 else None


def partition_problem(value: object) -> str | None:
    """Why ``value`` is no partition (naming the field), or ``None`` when it is one."""
    if partition_format_of(value) is not None:
        return None
    return (
        f"partition {value!r} is not a real calendar partition: daily {EXAMPLES['daily']}, "
        f"hourly {EXAMPLES['hourly']} or monthly {EXAMPLES['monthly']}"
    )
