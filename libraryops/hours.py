"""Library hours, one model: a branch's opening hours and everything derived from them.

A branch declares, once (``inventories/<site>/group_vars/branch_<slug>/hours.yml``; the time zone
``branch__timezone`` lives beside it in ``branch.yml``)::

    branch__hours:                        # all seven weekdays; each a list of zero or more
      monday: [["09:00", "20:00"]]        # [open, close] pairs of quoted local "HH:MM"
      wednesday: [["12:00", "20:00"]]     # ("24:00" = midnight, as a closing time only)
      friday: [["10:00", "13:00"], ["14:00", "18:00"]]
      sunday: []                          # closed
      ...
    branch__closures:                     # dates replacing their weekday's hours
      - {date: "2027-01-01", reason: New Year's Day}        # closed all day
      - {date: "2027-12-24", hours: [["09:00", "13:00"]], reason: Christmas Eve}
    branch__wake_lead_minutes: 30         # whole minutes; ranges in the field descriptions
    branch__patch_delay_minutes: 15
    branch__patch_window_minutes: 90
    branch__shutdown_warning_minutes: 10
    branch__shutdown_grace_minutes: 120   # >= delay + window + warning

:class:`BranchHours` answers, for an aware instant or a range: open now?, the next opening and
closing, the closed windows, the events of each opening day (wake, Wi-Fi on, Wi-Fi off, patch
start and end, shutdown warning, shutdown), and the systemd timers that fire them
(:meth:`BranchHours.timer_plan`, plain data). Both engines use this module (the Ansible filter
plugin ``plugins/filter/hours.py``, the pyinfra deploys directly); neither re-implements it.

Time semantics (IANA tz database: Python's :mod:`zoneinfo` reads the system's
/usr/share/zoneinfo, as systemd does):

- Hours and every minute offset are local wall-clock times: lead, delay, window, warning and
  grace are added on the wall clock, as an ``OnCalendar=`` time is. On a DST night the elapsed
  time differs from the written minutes by the shift.
- An interval of a date spans from the first instant the wall clock reads its opening time to the
  first instant it reads its closing time. A boundary inside a spring-forward gap becomes the
  jump itself; in the repeated autumn hour the first occurrence counts.
- Events follow systemd's calendar semantics. ``man systemd.time`` documents the syntax and the
  trailing time zone but not DST; systemd 252 (Debian 12) behaves as follows, checked against
  ``systemd-analyze calendar`` by the unit tests: a local time that does not exist on a
  spring-forward day is **skipped** that day (src/shared/calendarspec.c, find_next(), drops a
  candidate that mktime() normalizes to another wall time; upstream commit 129cb6e is the DST
  fix there), and a time repeated in autumn fires **once, at its first occurrence** (the
  daylight-time instant). The module does the same.
- What is rendered onto hosts depends only on the inventory, never on today's date: weekday
  timers whose ``ExecCondition=`` skips the dates listed in the closures file, plus dated timers
  for the closures that have modified hours.

``python -m libraryops.hours table --site-dir DIR [--now ISO]`` prints the hours table of a site
(``make hours``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from libraryops.inventory import InventoryError, SiteInventory, load_site

UTC = dt.UTC
#: Minutes in a day; "24:00" is minute 1440 of its date.
DAY = 1440
#: Weekday keys of ``branch__hours``, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: systemd's weekday abbreviations (``man systemd.time``), in the same order.
SYSTEMD_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The closures file on a host: one ISO date per line (comment lines start with #).
CLOSURES_PATH = "/etc/libraryops/closures"
#: Event kind -> (timer unit stem, what happens), in the order they happen around an opening day.
EVENTS = {
    "wake": ("wake", "public PCs power on before the first opening"),
    "wifi_on": ("wifi-on", "public Wi-Fi on at the first opening"),
    "wifi_off": ("wifi-off", "public Wi-Fi off at the last closing"),
    "patch_start": ("patch-start", "the patch window opens (updates and reboots)"),
    "patch_end": ("patch-end", "the patch window closes"),
    "warn": ("shutdown-warning", "the patron session is warned of the shutdown"),
    "shutdown": ("shutdown", "public PCs power off"),
}
#: Day offset of a weekday timer (the day it fires minus the opening day) -> unit name suffix.
OFFSET_SUFFIX = {-1: "-before-midnight", 0: "", 1: "-after-midnight"}
#: The ``date`` argument that yields the opening day when a timer of that offset fires.
_OPENING_DAY = {-1: " -d tomorrow", 0: "", 1: " -d yesterday"}
_HHMM = re.compile(r"(\d\d):(\d\d)")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_NIGHT_TEXT = ("more closed minutes between a day's last closing and the next day's first opening "
               "than branch__shutdown_grace_minutes + branch__wake_lead_minutes")
_INTERVAL_TEXT = ('["HH:MM", "HH:MM"] local opening and closing times, quoted, closing after '
                  'opening on the same day ("24:00" = midnight), e.g. ["09:00", "17:00"]')


def _fail(kind: str, message: str, **context: str) -> PydanticCustomError:
    """A pydantic error with a fixed message; ``allowed=`` overrides the field's description."""
    return PydanticCustomError(kind, message, context)


# ---------------------------------------------------------------------------------------------
# Value types


def _clock_minutes(value: Any) -> int:
    """A quoted local ``"HH:MM"`` time as minutes since local midnight (0-1440; "24:00" = 1440).

    Raises:
        pydantic_core.PydanticCustomError: not a quoted HH:MM time; an unquoted time such as
            12:30 arrives as a number (YAML 1.1 reads it as sexagesimal 750) and says so.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        raise _fail("time", "a time is unquoted: YAML reads an unquoted 12:30 as the number 750",
                    allowed=_INTERVAL_TEXT)
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise _fail("time", "not an HH:MM time", allowed=_INTERVAL_TEXT)
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise _fail("time", "not an HH:MM time", allowed=_INTERVAL_TEXT)
    return hour * 60 + minute


def _interval(value: Any) -> tuple[int, int]:
    """``[open, close]`` as minutes since local midnight, ``open < close <= 1440``."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _fail("interval", "not an [open, close] pair of times", allowed=_INTERVAL_TEXT)
    opens, closes = _clock_minutes(value[0]), _clock_minutes(value[1])
    if opens == DAY:
        raise _fail("interval", "opens at 24:00: midnight is allowed only as a closing time",
                    allowed=_INTERVAL_TEXT)
    if closes <= opens:
        raise _fail("interval", "closes before it opens (or when it opens)",
                    allowed=_INTERVAL_TEXT + "; a day ends at 24:00 and the next day starts "
                    "with its own intervals")
    return opens, closes


def _separate(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A day's intervals, sorted; refused when two overlap or touch."""
    ordered = sorted(intervals)
    for first, second in pairwise(ordered):
        if second[0] <= first[1]:
            raise _fail("overlap", "two intervals overlap or touch",
                        allowed="intervals separated by closed time; merge touching ones into "
                                "one interval")
    return ordered


def _closure_date(value: Any) -> dt.date:
    """A closure date: a YAML date or a quoted ``"YYYY-MM-DD"`` string."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail("date", "not a date", allowed='a date as "YYYY-MM-DD", quoted, e.g. "2027-01-01"')


@cache
def _time_zones() -> frozenset[str]:
    """The IANA time zone names this Python knows (the same tz database systemd reads)."""
    return frozenset(zoneinfo.available_timezones())


#: The areas of geographic IANA zone names, ``Area/Location`` (tz's theory.html, "Timezone
#: identifiers"). Other names are legacy or fixed offsets: ``EST`` and ``Etc/GMT+5`` never
#: change for daylight saving, ``US/Eastern`` is a deprecated alias (tz's ``backward`` file).
ZONE_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
              "Europe", "Indian", "Pacific")


def iana_time_zone(value: str) -> str:
    """Check a branch's time zone: a geographic IANA name ``Area/Location`` (one of
    :data:`ZONE_AREAS`) or ``UTC`` (a pydantic ``AfterValidator``; validate's BranchModel uses
    it too). Raises PydanticCustomError "not an IANA time zone" or "a legacy or fixed-offset
    zone"."""
    if value not in _time_zones():
        raise _fail("time_zone", "not an IANA time zone")
    if value != "UTC" and value.split("/", 1)[0] not in ZONE_AREAS:
        raise _fail("time_zone", "a legacy or fixed-offset zone name (daylight saving would be "
                                 "wrong or deprecated); use the Area/Location name")
    return value


Interval = Annotated[tuple[int, int], BeforeValidator(_interval)]
DayHours = Annotated[list[Interval], AfterValidator(_separate)]
_DAY_TEXT = ('a list of zero or more intervals ["HH:MM", "HH:MM"] (local opening and closing '
             'times, quoted, "24:00" = midnight), e.g. [["09:00", "12:00"], ["13:00", "20:00"]]; '
             "[] = closed")


def _minutes(low: int, high: int, what: str) -> Any:
    """A required whole number of minutes in ``low..high``."""
    return Field(strict=True, ge=low, le=high, description=f"whole minutes, {low}-{high}: {what}")


# ---------------------------------------------------------------------------------------------
# The model


class WeekHours(BaseModel):
    """``branch__hours``: every weekday, each a sorted list of ``(open, close)`` minute pairs.

    Minutes since local midnight, ``0 <= open < close <= 1440``; unknown keys (a misspelt weekday)
    and missing weekdays are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    monday: DayHours = Field(description=_DAY_TEXT)
    tuesday: DayHours = Field(description=_DAY_TEXT)
    wednesday: DayHours = Field(description=_DAY_TEXT)
    thursday: DayHours = Field(description=_DAY_TEXT)
    friday: DayHours = Field(description=_DAY_TEXT)
    saturday: DayHours = Field(description=_DAY_TEXT)
    sunday: DayHours = Field(description=_DAY_TEXT)


class Closure(BaseModel):
    """One entry of ``branch__closures``: a local date whose hours replace its weekday's.

    ``hours`` empty (the default) = closed all day; otherwise the day's modified hours, as in
    :class:`WeekHours`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Annotated[dt.date, BeforeValidator(_closure_date)] = Field(
        description='a date as "YYYY-MM-DD", quoted, e.g. "2027-01-01"')
    hours: DayHours = Field([], description=_DAY_TEXT + " all day (the default)")
    reason: str = Field(strict=True, min_length=1,
                        description="text shown by make hours, e.g. New Year's Day")


class BranchHours(BaseModel):
    """A branch's opening hours, closures, time zone and lead/grace minutes (``branch__*``).

    Validate with :meth:`from_vars` (or ``model_validate`` on a host's merged variables; other
    variables are ignored). Fields are named like the inventory keys; cross-field rules: the
    grace covers delay + window + warning, and between a day's last closing and the next day's
    first opening there is more closed time than grace + wake lead (else the PCs would have to be
    off and on at once).

    Every instant argument must be an aware :class:`datetime.datetime` (any zone; naive ones
    raise ValueError); instants returned are aware, at the branch's local offset
    (:meth:`local`): ``.hour`` is the local hour, ``%Z`` the zone's abbreviation.
    """

    model_config = ConfigDict(frozen=True)

    branch__timezone: Annotated[str, Field(strict=True), AfterValidator(iana_time_zone)] = Field(
        description="an IANA Area/Location name, e.g. America/New_York, or UTC")
    branch__wake_lead_minutes: int = _minutes(5, 240, "PCs wake this long before opening")
    branch__shutdown_warning_minutes: int = _minutes(1, 60, "warning before the shutdown")
    branch__patch_delay_minutes: int = _minutes(0, 240, "patch window start after closing")
    branch__patch_window_minutes: int = _minutes(15, 480, "length of the patch window")
    branch__shutdown_grace_minutes: int = _minutes(
        0, 720, "PCs power off this long after closing, at least delay + window + warning")
    branch__hours: WeekHours = Field(description=", ".join(WEEKDAYS) + ": lists of intervals")
    branch__closures: list[Closure] = Field(
        [], description='a list of {date: "YYYY-MM-DD", hours: [...], reason: text}; '
                        "no hours = closed all day")

    _closures: dict[dt.date, Closure] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Index the closures by date."""
        self._closures = {closure.date: closure for closure in self.branch__closures}

    @field_validator("branch__shutdown_grace_minutes")
    @classmethod
    def _grace_covers_patch_window(cls, grace: int, info: ValidationInfo) -> int:
        keys = ("branch__patch_delay_minutes", "branch__patch_window_minutes",
                "branch__shutdown_warning_minutes")
        if all(k in info.data for k in keys) and grace < sum(info.data[k] for k in keys):
            raise _fail("grace", "shorter than the patch window needs",
                        allowed="at least branch__patch_delay_minutes + "
                                "branch__patch_window_minutes + branch__shutdown_warning_minutes")
        return grace

    @field_validator("branch__hours")
    @classmethod
    def _nights_long_enough(cls, week: WeekHours, info: ValidationInfo) -> WeekHours:
        for today, tomorrow in pairwise((*WEEKDAYS, WEEKDAYS[0])):
            if _short_night(getattr(week, today), getattr(week, tomorrow), info):
                raise _fail("night", f"too little closed time between {today}'s last closing "
                                     f"and {tomorrow}'s first opening", allowed=_NIGHT_TEXT)
        return week

    @field_validator("branch__closures")
    @classmethod
    def _closures_consistent(cls, closures: list[Closure], info: ValidationInfo) -> list[Closure]:
        seen: dict[dt.date, int] = {}
        for index, closure in enumerate(closures):
            if closure.date in seen:
                raise _fail("closure", f"closures [{seen[closure.date]}] and [{index}] have the "
                                       "same date", allowed="one entry per date")
            seen[closure.date] = index
        week = info.data.get("branch__hours")
        if week is None:
            return closures
        by_date = {closure.date: closure.hours for closure in closures}

        def hours_on(day: dt.date) -> list[tuple[int, int]]:
            return by_date.get(day, getattr(week, WEEKDAYS[day.weekday()]))

        for index, closure in enumerate(closures):
            for day in (closure.date - dt.timedelta(days=1), closure.date):
                if _short_night(hours_on(day), hours_on(day + dt.timedelta(days=1)), info):
                    raise _fail("night", f"closure [{index}]: too little closed time between "
                                         f"{day.isoformat()} and the next day",
                                allowed=_NIGHT_TEXT)
        return closures

    @classmethod
    def from_vars(cls, hostvars: Mapping[str, Any]) -> BranchHours:
        """The hours of the branch a host belongs to, from its merged variables.

        Args:
            hostvars: any mapping of variable names (Ansible's hostvars of one host, pyinfra's
                ``host.data.dict()``, ``SiteInventory.hosts[host]``); only the ``branch__*`` keys
                of this model are read.

        Raises:
            pydantic.ValidationError: a key is missing or invalid (``make validate`` reports the
                same problems with their files).
        """
        return cls.model_validate({k: hostvars[k] for k in cls.model_fields if k in hostvars})

    # -- days ----------------------------------------------------------------------------------

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The branch's time zone (IANA, via :mod:`zoneinfo`)."""
        return zoneinfo.ZoneInfo(self.branch__timezone)

    def closure_on(self, day: dt.date) -> Closure | None:
        """The closure entry of a local date, or None."""
        return self._closures.get(day)

    def hours_on(self, day: dt.date) -> list[tuple[int, int]]:
        """A local date's intervals as ``(open, close)`` minutes since local midnight: the
        closure's hours on a closure date (empty = closed all day), else the weekday's."""
        closure = self._closures.get(day)
        return closure.hours if closure else getattr(self.branch__hours, WEEKDAYS[day.weekday()])

    def _day_events(self, intervals: list[tuple[int, int]]) -> list[tuple[str, int]]:
        """(kind, wall-clock minutes from the opening day's midnight; may be < 0 or >= 1440)."""
        if not intervals:
            return []
        first, last = intervals[0][0], intervals[-1][1]
        patch = last + self.branch__patch_delay_minutes
        shutdown = last + self.branch__shutdown_grace_minutes
        return [
            ("wake", first - self.branch__wake_lead_minutes),
            ("wifi_on", first),
            ("wifi_off", last),
            ("patch_start", patch),
            ("patch_end", patch + self.branch__patch_window_minutes),
            ("warn", shutdown - self.branch__shutdown_warning_minutes),
            ("shutdown", shutdown),
        ]

    # -- instants ------------------------------------------------------------------------------

    def local(self, at: dt.datetime) -> dt.datetime:
        """An aware instant at the branch's local UTC offset of that instant: local wall-clock
        fields, ``tzname()`` the zone's abbreviation (EST, CEST), and a fixed-offset tzinfo, so
        that comparisons and arithmetic stay exact in the repeated autumn hour (Python compares
        two ZoneInfo datetimes of one zone on the wall clock, and never finds an ambiguous one
        equal to another zone's).

        Raises:
            ValueError: ``at`` is naive.
        """
        wall = _utc(at).astimezone(self.zone)
        return wall.astimezone(dt.timezone(wall.utcoffset(), wall.tzname()))

    def _local_day(self, at: dt.datetime) -> dt.date:
        return _utc(at).astimezone(self.zone).date()

    def _wall(self, day: dt.date, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)

    def _boundary(self, day: dt.date, minute: int) -> dt.datetime:
        """The first instant (UTC) at which the wall clock reads ``minute`` of ``day`` or later."""
        wall = self._wall(day, minute)
        first = wall.replace(tzinfo=self.zone).astimezone(UTC)  # fold=0: the first occurrence
        if first.astimezone(self.zone).replace(tzinfo=None) == wall:
            return first
        # In a spring-forward gap: find the jump (whole seconds) between the two readings.
        low = int(wall.replace(tzinfo=self.zone, fold=1).timestamp())  # wall clock before `wall`
        high = int(first.timestamp())  # wall clock after `wall`
        while high - low > 1:
            middle = (low + high) // 2
            if dt.datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return dt.datetime.fromtimestamp(high, UTC)

    def _event_instant(self, day: dt.date, minute: int) -> dt.datetime | None:
        """When a timer for ``minute`` of ``day`` fires (UTC), as systemd does: None when that
        wall time does not exist (a spring-forward gap), the first occurrence when repeated."""
        wall = self._wall(day, minute)
        instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
        return instant if instant.astimezone(self.zone).replace(tzinfo=None) == wall else None

    def _spans(self, first: dt.date, last: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open spans (UTC start, UTC end) of the dates ``first..last``, sorted, adjacent ones
        merged (a 24:00 closing followed by a 00:00 opening is one span)."""
        current: tuple[dt.datetime, dt.datetime] | None = None
        day = first
        while day <= last:
            for opens, closes in self.hours_on(day):
                start, end = self._boundary(day, opens), self._boundary(day, closes)
                if start >= end:  # the whole interval fell into a DST gap
                    continue
                if current and start <= current[1]:
                    current = (current[0], max(current[1], end))
                else:
                    if current:
                        yield current
                    current = (start, end)
            day += dt.timedelta(days=1)
        if current:
            yield current

    def _spans_from(self, at: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open spans from the day before ``at`` until a week after the last closure (past it
        the weekly hours repeat, so a search that found nothing never will)."""
        day = self._local_day(at)
        last_closure = max(self._closures, default=day)
        yield from self._spans(day - dt.timedelta(days=1),
                               max(day, last_closure) + dt.timedelta(days=8))

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the branch is open at the aware instant ``at``.

        Raises:
            ValueError: ``at`` is naive.
        """
        at = _utc(at)
        for start, end in self._spans_from(at):
            if start > at:
                return False
            if at < end:
                return True
        return False

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """The first opening strictly after ``at`` (local, see :meth:`local`), or None if the
        hours never open again.

        Raises:
            ValueError: ``at`` is naive.
        """
        at = _utc(at)
        start = next((s for s, _ in self._spans_from(at) if s > at), None)
        return self.local(start) if start else None

    def next_closing(self, at: dt.datetime) -> dt.datetime | None:
        """The first closing strictly after ``at`` (local, see :meth:`local`): the end of the
        current opening when open, else of the next one; None if the hours never open again.

        Raises:
            ValueError: ``at`` is naive.
        """
        at = _utc(at)
        end = next((e for _, e in self._spans_from(at) if e > at), None)
        return self.local(end) if end else None

    def closed_windows(self, start: dt.datetime,
                       end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The closed windows within ``[start, end)``: sorted, disjoint ``(from, until)`` pairs
        of local instants (:meth:`local`), clipped to the range.

        Raises:
            ValueError: ``start`` or ``end`` is naive.
        """
        start, end = _utc(start), _utc(end)
        windows = []
        cursor = start
        first = self._local_day(start) - dt.timedelta(days=1)
        for opens, closes in self._spans(first, self._local_day(end)):
            if opens >= end:
                break
            if opens > cursor:
                windows.append((cursor, opens))
            cursor = max(cursor, closes)
        if cursor < end:
            windows.append((cursor, end))
        return [(self.local(a), self.local(b)) for a, b in windows]

    def events(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """Every event firing in ``[start, end)``, sorted by instant (then :data:`EVENTS` order).

        A closure date replaces its weekday's events with its own (none when closed all day);
        an event whose wall time falls into a spring-forward gap is skipped and a repeated autumn
        time fires at its first occurrence, as systemd does (see the module docstring).

        Raises:
            ValueError: ``start`` or ``end`` is naive.
        """
        start, end = _utc(start), _utc(end)
        order = list(EVENTS)
        found = []
        day = self._local_day(start) - dt.timedelta(days=1)
        while day <= self._local_day(end) + dt.timedelta(days=1):
            for kind, minute in self._day_events(self.hours_on(day)):
                offset, at = divmod(minute, DAY)
                instant = self._event_instant(day + dt.timedelta(days=offset), at)
                if instant is not None and start <= instant < end:
                    found.append(Event(kind, self.local(instant), day))
            day += dt.timedelta(days=1)
        return sorted(found, key=lambda e: (e.at, order.index(e.kind)))

    # -- what hosts get ------------------------------------------------------------------------

    def closures_file(self) -> str:
        """The closures file's content (:data:`CLOSURES_PATH`): a comment header, then every
        closure date (closed all day or modified hours), sorted, one ``YYYY-MM-DD`` per line."""
        header = (f"# Closure dates (local dates in {self.branch__timezone}), one per line: the\n"
                  "# libraryops weekday timers skip them (ExecCondition). From the inventory.\n")
        return header + "".join(f"{day.isoformat()}\n" for day in sorted(self._closures))

    def exec_condition(self, day_offset: int) -> str:
        """The ``ExecCondition=`` command line of a weekday timer firing ``day_offset`` days
        (-1, 0 or 1) after its opening day: exit 0 (run) unless the opening day is listed in
        :data:`CLOSURES_PATH`. Escaped for a unit file (``%%`` and ``$$``, ``man
        systemd.service``); the opening day is computed in the branch's zone with GNU date."""
        return (f"/bin/sh -c '! grep -qsxF \"$$(TZ={self.branch__timezone} "
                f"date{_OPENING_DAY[day_offset]} +%%F)\" {CLOSURES_PATH}'")

    def timer_plan(self) -> dict[str, Any]:
        """Everything the engines render for this branch's schedules, as plain data.

        Returns:
            ``{"closures_path": str, "closures": str (file content), "timers": [timer, ...]}``
            where each timer is ``{"unit": "libraryops-<stem>[-suffix]", "event": kind,
            "description": str, "on_calendar": [OnCalendar= expression, ...],
            "exec_condition": str | None, "day_offset": -1 | 0 | 1 | None}``:

            - weekday timers (``exec_condition`` set): one unit per event kind and day offset
              (``-before-midnight`` / ``-after-midnight`` when the event falls on the day before
              or after its opening day), one expression per local time, weekdays grouped in
              systemd's normalized form, e.g. ``Mon,Tue,Thu..Sat *-*-* 08:30:00 America/New_York``;
            - dated timers (``-dated``, no condition): the events of closures with modified
              hours, one full-date expression each, e.g. ``2027-12-24 15:00:00 America/New_York``.

            The expressions carry the branch's time zone (``man systemd.time``), so a host's
            own time zone does not matter. Units are ordered as :data:`EVENTS`.
        """
        weekly: dict[tuple[str, int], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        for index, name in enumerate(WEEKDAYS):
            for kind, minute in self._day_events(getattr(self.branch__hours, name)):
                offset, at = divmod(minute, DAY)
                weekly[kind, offset][at].add((index + offset) % 7)
        dated: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
        for day, closure in sorted(self._closures.items()):
            for kind, minute in self._day_events(closure.hours):
                offset, at = divmod(minute, DAY)
                dated[kind].append((day + dt.timedelta(days=offset), at))
        timers = []
        for kind, (stem, what) in EVENTS.items():
            for offset, suffix in OFFSET_SUFFIX.items():
                if (kind, offset) in weekly:
                    times = weekly[kind, offset]
                    timers.append({
                        "unit": f"libraryops-{stem}{suffix}",
                        "event": kind,
                        "description": f"libraryops: {what} (closure dates skipped)",
                        "on_calendar": [self._weekly_spec(times[at], at) for at in sorted(times)],
                        "exec_condition": self.exec_condition(offset),
                        "day_offset": offset,
                    })
            if dated[kind]:
                timers.append({
                    "unit": f"libraryops-{stem}-dated",
                    "event": kind,
                    "description": f"libraryops: {what} (dates with modified hours)",
                    "on_calendar": [f"{day.isoformat()} {_clock(at)} {self.branch__timezone}"
                                    for day, at in dated[kind]],
                    "exec_condition": None,
                    "day_offset": None,
                })
        return {"closures_path": CLOSURES_PATH, "closures": self.closures_file(),
                "timers": timers}

    def patch_windows(self) -> dict[str, tuple[int, int]]:
        """The weekly patch window: weekday (a key of :data:`WEEKDAYS`, open that day) ->
        (start, end) in wall-clock minutes from that day's midnight (end may pass 1440, the
        next day). Closures are not included (their own hours apply on their dates)."""
        windows = {}
        for name in WEEKDAYS:
            events = dict(self._day_events(getattr(self.branch__hours, name)))
            if events:
                windows[name] = (events["patch_start"], events["patch_end"])
        return windows

    def patch_calendar(self, after_minutes: int = 0) -> list[str]:
        """The ``OnCalendar=`` expressions firing ``after_minutes`` into the patch window of every
        opening day: the weekday expressions, then one full-date expression per closure with
        modified hours, as :meth:`timer_plan` renders the ``patch_start`` timers (the updates
        role schedules the apt timers with them). They carry no closure condition: on a date
        closed all day the weekday expression still fires, while the building is closed (public
        PCs are off then; an always-on machine patches in the empty building).

        Args:
            after_minutes: whole minutes after the window opens, 0 to window length - 1.

        Raises:
            ValueError: ``after_minutes`` is outside the patch window.
        """
        window = self.branch__patch_window_minutes
        if not 0 <= after_minutes < window:
            raise ValueError(f"after_minutes={after_minutes}: outside the patch window "
                             f"(allowed: 0-{window - 1}, branch__patch_window_minutes={window})")
        shifted = self.model_copy(update={
            "branch__patch_delay_minutes": self.branch__patch_delay_minutes + after_minutes})
        return [expression for timer in shifted.timer_plan()["timers"]
                if timer["event"] == "patch_start" for expression in timer["on_calendar"]]

    def _weekly_spec(self, weekdays: set[int], at: int) -> str:
        days = _weekday_list(weekdays)
        return f"{days + ' ' if days else ''}*-*-* {_clock(at)} {self.branch__timezone}"


@dataclass(frozen=True)
class Event:
    """One scheduled event of a branch.

    Attributes:
        kind: a key of :data:`EVENTS`.
        at: when it fires: aware, at the branch's local offset (:meth:`BranchHours.local`).
        day: the local opening day it belongs to (a shutdown after a midnight closing fires the
            next day); a closure on that day replaces it.
    """

    kind: str
    at: dt.datetime
    day: dt.date


def _utc(at: dt.datetime) -> dt.datetime:
    """An aware instant in UTC.

    Raises:
        ValueError: ``at`` is naive (its zone would be a guess).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()}: a naive datetime; give an aware instant")
    return at.astimezone(UTC)


def _short_night(today: list[tuple[int, int]], tomorrow: list[tuple[int, int]],
                 info: ValidationInfo) -> bool:
    """Whether the closed time between two consecutive days is too short to shut down and wake
    (False when a day is closed or the minutes did not validate)."""
    keys = ("branch__shutdown_grace_minutes", "branch__wake_lead_minutes")
    if not today or not tomorrow or not all(k in info.data for k in keys):
        return False
    return DAY - today[-1][1] + tomorrow[0][0] <= sum(info.data[k] for k in keys)


def _clock(minute: int) -> str:
    """Minutes since midnight (0-1439) as systemd's ``HH:MM:SS``."""
    return f"{minute // 60:02d}:{minute % 60:02d}:00"


def _weekday_list(weekdays: set[int]) -> str:
    """Weekday indices (0 = Monday) in systemd's normalized form: runs of three or more as
    ``A..B``, others comma-separated (``{0, 1, 3, 4, 5}`` -> ``Mon,Tue,Thu..Sat``); all seven ->
    ``""`` (systemd omits the weekday). Checked against ``systemd-analyze calendar``."""
    if len(weekdays) == 7:
        return ""
    runs: list[list[int]] = []
    for day in sorted(weekdays):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        names = [SYSTEMD_WEEKDAYS[d] for d in run]
        parts += [f"{names[0]}..{names[-1]}"] if len(run) >= 3 else names
    return ",".join(parts)


# ---------------------------------------------------------------------------------------------
# Display: the `make hours` table, and instants for people (also used by libraryops.guard)


def clock_text(minute: int) -> str:
    """Minutes since local midnight (0-1440) as ``HH:MM`` (1440 -> ``24:00``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def intervals_text(intervals: list[tuple[int, int]]) -> str:
    """A day's intervals as ``09:00-12:00, 13:00-20:00``, or ``closed``."""
    return ", ".join(f"{clock_text(a)}-{clock_text(b)}" for a, b in intervals) or "closed"


def instant_text(at: dt.datetime, now: dt.datetime | None = None) -> str:
    """An aware instant for people, in its own zone: ``Mon 30 Nov 2026 08:30 EST``; with
    ``now``, shorter when unambiguous: ``Mon 08:30`` within six days after ``now``'s date (both
    in ``at``'s zone), ``Mon 4 Jan 08:30`` within the same year."""
    when = f"{at:%H:%M}"
    if now is not None:
        days = (at.date() - now.astimezone(at.tzinfo).date()).days
        if 0 <= days < 7:
            return f"{at:%a} {when}"
        if at.year == now.astimezone(at.tzinfo).year:
            return f"{at:%a} {at.day} {at:%b} {when}"
    return f"{at:%a} {at.day} {at:%b %Y} {when} {at:%Z}"


def branch_hours(inventory: SiteInventory) -> dict[str, BranchHours | None]:
    """Each ``branch_<slug>`` group with hosts -> its hours from the first host's variables, or
    None when they do not validate (``make validate`` names the problems)."""
    found: dict[str, BranchHours | None] = {}
    for group, members in sorted(inventory.branches.items()):
        if members:
            try:
                found[group] = BranchHours.from_vars(inventory.hosts[members[0]])
            except ValidationError:
                found[group] = None
    return found


def format_table(inventory: SiteInventory, now: dt.datetime) -> str:
    """The hours table of a site (``make hours``): one row per branch group.

    Args:
        inventory: the site; each ``branch_<slug>`` group's first host supplies the branch's
            variables.
        now: the aware instant the table is for.

    Returns:
        The table as text: per branch its local time, today's hours, open or closed now, then
        the next wake, shutdown, patch window, Wi-Fi off and Wi-Fi on, in the branch's local
        time. A branch whose hours do not validate says so in its row.
    """
    header = ("branch", "local time", "today's hours", "now", "wake", "shutdown",
              "patch window", "Wi-Fi off", "Wi-Fi on")
    rows = []
    site_name = inventory.path.name
    for group, hours in branch_hours(inventory).items():
        site_name = inventory.hosts[inventory.branches[group][0]].get("site__name", site_name)
        rows.append(_row(group, hours, now) if hours else (
            group, "-", "invalid hours: run make validate", *["-"] * 6))
    lines = [f"{site_name}: hours at {instant_text(now.astimezone(UTC))}; next events in each "
             "branch's local time", ""]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _row(group: str, hours: BranchHours, now: dt.datetime) -> tuple[str, ...]:
    """One branch's row of :func:`format_table`."""
    local = hours.local(now)
    today = intervals_text(hours.hours_on(local.date()))
    closure = hours.closure_on(local.date())
    if closure:
        today += f"; {closure.reason}"
    if hours.is_open(now):
        closing = hours.next_closing(now)
        state = f"open until {instant_text(closing, local)}" if closing else "open"
    else:
        opening = hours.next_opening(now)
        state = f"closed until {instant_text(opening, local)}" if opening else "closed"
    upcoming: dict[str, Event] = {}
    for event in hours.events(now, now + dt.timedelta(days=400)):
        upcoming.setdefault(event.kind, event)

    def when(kind: str) -> str:
        return instant_text(upcoming[kind].at, local) if kind in upcoming else "-"

    patch = when("patch_start")
    if "patch_start" in upcoming and "patch_end" in upcoming:
        patch += f"-{upcoming['patch_end'].at:%H:%M}"
    return (group, f"{local:%a %H:%M %Z}", today, state, when("wake"), when("shutdown"), patch,
            when("wifi_off"), when("wifi_on"))


def main(argv: list[str] | None = None) -> int:
    """``python -m libraryops.hours table --site-dir DIR [--now ISO]``: print the hours table.

    ``--now`` is an ISO 8601 instant with an offset (``2027-03-01T14:00-05:00``, ``...Z``);
    default: the current time. Returns 0, or 1 when the site cannot be read or a branch's
    hours do not validate (the table is still printed, with that branch's row saying so).
    """
    parser = argparse.ArgumentParser(prog="python -m libraryops.hours")
    parser.add_argument("command", choices=["table"])
    parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    parser.add_argument("--now", type=aware_instant, default=None,
                        help="ISO 8601 instant with an offset (default: now)")
    args = parser.parse_args(argv)
    try:
        inventory = load_site(args.site_dir)
    except InventoryError as exc:
        print(f"hours: {exc}", file=sys.stderr)
        return 1
    print(format_table(inventory, args.now or dt.datetime.now(UTC)), end="")
    invalid = [group for group, hours in branch_hours(inventory).items() if hours is None]
    if invalid:
        print(f"hours: {', '.join(invalid)}: invalid hours; run make validate", file=sys.stderr)
        return 1
    return 0


def aware_instant(text: str) -> dt.datetime:
    """Parse an ISO 8601 instant that has an offset (``Z`` allowed), for ``--now`` options.

    Raises:
        ValueError: not ISO 8601, or no offset (a naive time would be ambiguous).
    """
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text}: give an offset, e.g. 2027-03-01T14:00-05:00 or ...Z")
    return value


if __name__ == "__main__":
    sys.exit(main())
