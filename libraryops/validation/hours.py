"""The hours checkers of ``make validate``: every branch's hours, as each of its hosts sees them.

:func:`check_hours` applies the model,
:class:`libraryops.hours.BranchHours` (close before open, overlapping or touching intervals, a
misspelt or missing weekday, an unknown time zone, a closure that is not a date, minutes out of
range, a grace shorter than the patch window needs, a night too short to shut down and wake, a
branch without a closing that does not declare its patch window). :func:`check_calendar` looks
at the calendar the valid hours meet (the years from now to the last closure, and the next two):
an opening or closing inside a daylight-saving gap is refused (that wall time never happens, so
its events would silently not fire); one inside the repeated autumn hour, and an event such as
a wake or shutdown that falls into a gap, is a warning naming what systemd will do; closure
dates that run out within :data:`libraryops.hours_values.CLOSURES_NOTICE_MONTHS` are a warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from libraryops import clock
from libraryops.hours import BranchHours
from libraryops.hours_values import DAY, UTC, WEEKDAYS, clock_text, dst_changes
from libraryops.validation.base import Problem, Site, display_path

#: Years past the current one whose daylight-saving changes the weekly hours are checked against.
YEARS_AHEAD = 2
#: Event kinds that depend on the opening and closing times (a gap skips them that day).
_DERIVED = {"wake": "wake", "warn": "shutdown warning", "shutdown": "shutdown",
            "patch_start": "patch window start", "patch_end": "patch window end"}


def check_hours(site: Site) -> list[Problem]:
    """Check the ``branch__*`` hours keys of every ``branch_<slug>`` group, on each member host.

    Each problem names the file that defines the key (found by :meth:`Site.source`, normally
    ``group_vars/branch_<slug>/hours.yml``; when the key is missing, ``hours.yml`` there), the
    key (``branch__hours.wednesday[0]``) and, when that file's path does not name the branch
    (a key defined in ``group_vars/all/``, a host's ``host_vars/``), the branch as the first word
    of the problem. The time zone is checked once, by
    :func:`libraryops.validation.branches.check_branches`.

    Returns:
        The problems, each once, in branch order (empty: every branch's hours are valid).
    """
    problems = []
    for group, members in sorted(site.inventory.branches.items()):
        expected = site.files.path / "group_vars" / group / "hours.yml"
        for problem in site.model_problems(BranchHours, members, expected):
            if problem.key == "branch__timezone":
                continue  # the branch checker owns the time zone (validation.branches)
            file = Path(problem.file)
            if group not in file.parts and file.stem != group:
                problem = replace(problem, problem=f"{group}: {problem.problem}")
            problems.append(problem)
    return list(dict.fromkeys(problems))



def _wall(zone: dt.tzinfo, day: dt.date, minute: int) -> tuple[dt.datetime, dt.datetime]:
    """The first and the last instant (UTC) the wall clock of ``zone`` reads ``minute`` of
    ``day`` (equal when it happens once; ``first > last`` when it never happens: a gap)."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    last = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) != wall:
        return last + dt.timedelta(hours=1), last  # in the gap: no instant reads it
    return first, last


def calendar_problems(hours: BranchHours, now: dt.datetime,
                      keys: dict[dt.date, str]) -> Iterator[tuple[str, str, str, bool]]:
    """The calendar problems of valid hours (see the module docstring).

    Args:
        hours: the branch's hours.
        now: the instant "now" (:func:`libraryops.clock.now`).
        keys: closure date -> its key (``branch__closures[3]``), for days that are closures.

    Yields:
        ``(key, problem, allowed, warning)``.
    """
    zone = hours.zone
    notice = hours.closures_notice(now)
    if notice:
        yield "branch__closures", notice.removeprefix("branch__closures: "), (
            "closure dates reaching further ahead"), True
    years = {hours.local(now).year + n for n in range(YEARS_AHEAD + 1)}
    years |= {c.date.year for c in hours.branch__closures}
    for day in dst_changes(zone, sorted(years)):
        key = keys.get(day, f"branch__hours.{WEEKDAYS[day.weekday()]}")
        for index, (opens, closes) in enumerate(hours.hours_on(day)):
            for verb, minute in (("opens", opens), ("closes", closes)):
                if minute in (0, DAY):
                    continue
                first, last = _wall(zone, day, minute)
                at = f"{verb} at {clock_text(minute)}, which"
                where = f"{key}.hours[{index}]" if day in keys else f"{key}[{index}]"
                if first > last:
                    yield (where,
                           f"{at} does not exist on {day.isoformat()} (daylight saving time "
                           f"starts in {hours.branch__timezone}): that day's events tied to it "
                           "would silently not happen", "a time outside the hour the clocks skip "
                           "on that day", False)
                elif first != last:
                    local = hours.local(first)
                    yield (where,
                           f"{at} happens twice on {day.isoformat()} (daylight saving time ends "
                           f"in {hours.branch__timezone}): systemd uses the first, "
                           f"{local:%H:%M %Z} ({first:%H:%M} UTC)", "", True)
        events = hours.events(
            dt.datetime.combine(day - dt.timedelta(days=2), dt.time(), tzinfo=zone),
            dt.datetime.combine(day + dt.timedelta(days=3), dt.time(), tzinfo=zone))
        fired = {(e.kind, e.day) for e in events}
        for opening_day in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
            planned = dict(hours.day_events(opening_day))
            for kind, what in _DERIVED.items():
                if kind in planned and (kind, opening_day) not in fired:
                    minute = planned[kind] % DAY
                    weekday = WEEKDAYS[opening_day.weekday()]
                    yield (keys.get(opening_day, f"branch__hours.{weekday}"),
                           f"the {what} of {opening_day.isoformat()} at {clock_text(minute)} "
                           f"falls into the hour the clocks skip (daylight saving time starts in "
                           f"{hours.branch__timezone}): systemd skips it that day", "", True)


def check_calendar(site: Site) -> list[Problem]:
    """:func:`calendar_problems` of every branch whose hours validate (the others are
    :func:`check_hours`' problems), named by the file that defines the key."""
    now = clock.now()
    problems = []
    for group, members in sorted(site.inventory.branches.items()):
        if not members:
            continue
        host = members[0]
        try:
            hours = BranchHours.from_vars(site.inventory.hosts[host])
        except ValidationError:
            continue
        keys = {c.date: f"branch__closures[{i}]" for i, c in enumerate(hours.branch__closures)}
        expected = site.files.path / "group_vars" / group / "hours.yml"
        for key, problem, allowed, warning in calendar_problems(hours, now, keys):
            file = site.source(key.split(".")[0].split("[")[0], host) or expected
            problems.append(Problem(display_path(file), key, problem, allowed, warning))
    return list(dict.fromkeys(problems))
