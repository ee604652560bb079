"""The controller's clock, with one override: run anything "as of" a chosen instant.

``LIBRARYOPS_NOW`` (what ``make ... NOW=<instant>`` exports) is an ISO 8601 instant with an offset,
e.g. ``2027-12-24T10:00-05:00`` or ``2027-03-14T07:30Z``. When it is set, every piece of the
controller that asks what time it is -- the hours table, the open-hours guard, ``make apply``'s
deferral of public PCs, and the test suites' expectations (the weeks around "today", the instants
the schedule tests pick) -- reads it instead of the real clock. Hosts' clocks are never moved: the
lab's containers share the kernel's clock, and what is rendered onto hosts never depends on the
date anyway (DESIGN.md, "Library hours, one model").
"""

from __future__ import annotations

import datetime as dt
import os

#: The environment variable holding the override (set by ``make ... NOW=``).
NOW_ENV = "LIBRARYOPS_NOW"


def aware_instant(text: str) -> dt.datetime:
    """Parse an ISO 8601 instant that has an offset (``Z`` allowed), for ``--now`` and ``NOW=``.

    Raises:
        ValueError: not ISO 8601, or no offset (a naive time would be ambiguous); the message
            shows the text and an allowed form.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: not an ISO 8601 instant (allowed: e.g. "
                         "2027-03-01T14:00-05:00 or 2027-03-01T19:00Z)") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r}: give an offset (allowed: e.g. 2027-03-01T14:00-05:00 or "
                         "2027-03-01T19:00Z)")
    return value


def now(override: str | None = None) -> dt.datetime:
    """The current instant as an aware UTC datetime.

    Args:
        override: an explicit instant (a ``--now`` option's text); wins over the environment.

    Returns:
        ``override`` if given, else :data:`NOW_ENV` if set and not empty, else the real clock;
        always converted to UTC.

    Raises:
        ValueError: the override or :data:`NOW_ENV` is not an instant with an offset (the
            message names ``LIBRARYOPS_NOW`` when it came from there).
    """
    if override:
        return aware_instant(override).astimezone(dt.UTC)
    text = os.environ.get(NOW_ENV, "").strip()
    if text:
        try:
            return aware_instant(text).astimezone(dt.UTC)
        except ValueError as exc:
            raise ValueError(f"{NOW_ENV}={exc}") from None
    return dt.datetime.now(dt.UTC)
