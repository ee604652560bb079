"""The schedule verifier: what the timers this project installs do, asked of a host's systemd,
over every date of the calendar that matters.

Two halves, one definition each:

- :func:`sweep_windows`: the stretches of the calendar a branch's schedule is checked over --
  the weeks around "now" (the controller's clock, :mod:`libraryops.clock`), every closure date,
  both daylight-saving changes of every year the closures cover, and every year boundary. A
  schedule that is right on those days is right on the rest (the weekly hours repeat).
- :class:`HostTimers`: runs :mod:`libraryops.timer_probe` on a host (one SSH command per call):
  the host's ``systemd-analyze calendar`` says when each timer elapses, and the service's real
  conditions and ``ExecCondition=`` commands, run with the clock of each instant under
  libfaketime, say whether it acts. No test re-implements either decision.

The expected side is :meth:`libraryops.hours.BranchHours.events` (the one hours model), compared
with :func:`acted`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from libraryops.hours import BranchHours
from libraryops.hours_values import dst_changes

UTC = dt.UTC
#: Days of the sweep before and after "now".
WEEKS_BEFORE_DAYS = 7
WEEKS_AFTER_DAYS = 21
_PROBE = Path(__file__).with_name("timer_probe.py")


def sweep_windows(hours: BranchHours, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches of the calendar a branch's schedule is checked over.

    Args:
        hours: the branch's hours.
        now: the aware instant the sweep is "around" (:func:`libraryops.clock.now`).

    Returns:
        Sorted, disjoint ``(start, end)`` pairs of aware UTC instants, each from a local midnight
        to a local midnight of the branch: the days from :data:`WEEKS_BEFORE_DAYS` before
        ``now``'s local date to :data:`WEEKS_AFTER_DAYS` after; each closure date with the day
        before and the day after (events of an opening day may fire the evening before or after
        midnight); each daylight-saving change likewise; and 30 December to 2 January of every
        year boundary, for every year from ``now``'s to the last closure's.
    """
    zone = hours.zone
    today = now.astimezone(zone).date()
    closures = [c.date for c in hours.branch__closures]
    years = range(min([today.year, *(d.year for d in closures)]),
                  max([today.year, *(d.year for d in closures)]) + 1)
    days: list[tuple[dt.date, dt.date]] = [
        (today - dt.timedelta(days=WEEKS_BEFORE_DAYS), today + dt.timedelta(days=WEEKS_AFTER_DAYS))]
    for day in [*closures, *dst_changes(zone, years)]:
        days.append((day - dt.timedelta(days=1), day + dt.timedelta(days=2)))
    days += [(dt.date(year, 12, 30), dt.date(year + 1, 1, 3)) for year in years]
    merged: list[list[dt.date]] = []
    for first, last in sorted(days):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)

    return [(midnight(first), midnight(last)) for first, last in merged]


@dataclass(frozen=True)
class TimerReport:
    """What a host's systemd says of one timer over the requested windows.

    Attributes:
        timer: the timer unit, e.g. ``libraryops-wake.timer``.
        service: the unit it starts.
        calendar: its ``OnCalendar=`` expressions as systemd loaded them.
        conditions: ``ok`` or systemd-analyze's message for failing ``Condition*=``.
        exec_condition: the ``ExecCondition=`` command lines as systemd stores them (argv lists).
        firings: ``(UTC instant, verdict)`` sorted; verdict ``acts``, ``skipped`` or
            ``failed: ...`` (see :mod:`libraryops.timer_probe`).
    """

    timer: str
    service: str
    calendar: tuple[str, ...]
    conditions: str
    exec_condition: tuple[tuple[str, ...], ...]
    firings: tuple[tuple[dt.datetime, str], ...]

    def acting(self) -> list[dt.datetime]:
        """The instants at which the service acts."""
        return [at for at, verdict in self.firings if verdict == "acts"]

    def failures(self) -> list[tuple[dt.datetime, str]]:
        """Firings whose condition failed (the unit would be marked failed)."""
        return [(at, v) for at, v in self.firings if v.startswith("failed")]


class HostTimers:
    """The schedule verifier's host side (see the module docstring).

    Args:
        run: runs an argv on the host (as root) and returns its standard output; raises on a
            non-zero exit (testinfra's ``host.check_output``, or a local subprocess).
    """

    def __init__(self, run: Callable[[list[str]], str]):
        self._run = run

    def _ask(self, request: Mapping) -> dict:
        out = self._run(["python3", "-c", _PROBE.read_text(encoding="utf-8"),
                         json.dumps(request)])
        return json.loads(out)

    def reports(self, timers: Iterable[str],
                windows: Iterable[tuple[dt.datetime, dt.datetime]]) -> dict[str, TimerReport]:
        """Each timer's :class:`TimerReport` over ``windows`` (aware instants).

        Raises:
            Whatever ``run`` raises when the probe fails (e.g. libfaketime missing on the host).
        """
        request = {"timers": list(timers),
                   "windows": [[int(a.timestamp()), int(b.timestamp())] for a, b in windows]}
        found = {}
        for timer, data in self._ask(request)["timers"].items():
            found[timer] = TimerReport(
                timer=timer, service=data["service"], calendar=tuple(data["calendar"]),
                conditions=data["conditions"],
                exec_condition=tuple(tuple(argv) for argv in data["exec_condition"]),
                firings=tuple((dt.datetime.fromtimestamp(epoch, UTC), verdict)
                              for epoch, verdict in data["firings"]))
        return found

    def start_as_of(self, service: str, at: dt.datetime) -> tuple[bool, str]:
        """Start ``service`` on the host with the clock of ``at`` (its conditions, ExecCondition
        and ExecStart all see that instant); return (whether its ExecStart ran, its Result)."""
        reply = self._ask({"as_of": [service, int(at.timestamp())]})["as_of"]
        return reply["ran"], reply["result"]


def acted(reports: Mapping[str, TimerReport],
          event_of: Mapping[str, str]) -> set[tuple[str, dt.datetime]]:
    """``{(event, UTC instant)}`` at which the timers act, ``event_of`` mapping each timer unit
    to its event kind (from :meth:`BranchHours.timer_plan`)."""
    return {(event_of[t], at) for t, report in reports.items() for at in report.acting()}


def expected(hours: BranchHours, windows: Iterable[tuple[dt.datetime, dt.datetime]],
             kinds: Iterable[str]) -> set[tuple[str, dt.datetime]]:
    """``{(event, UTC instant)}`` of the hours model's events of ``kinds`` in ``windows``."""
    kinds = set(kinds)
    return {(e.kind, e.at.astimezone(UTC)) for start, end in windows
            for e in hours.events(start, end) if e.kind in kinds}
