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

The hours table of a site for people (``make hours``) and the instants as people read them are
in :mod:`libraryops.hours_table`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)

from libraryops.problem import fail

UTC = dt.UTC
#: Minutes in a day; "24:00" is minute 1440 of its date.
DAY = 1440
#: Weekday keys of ``branch__hours``, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: systemd's weekday abbreviations (``man systemd.time``), in the same order.
SYSTEMD_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The closures file on a host: one ISO date per line (comment lines start with #).
CLOSURES_PATH = "/etc/libraryops/closures"
#: How far ahead the closure dates must reach before ``make validate`` and ``make hours`` warn.
CLOSURES_NOTICE_MONTHS = 4
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
_OPENING_DAY = {-1: ' -d "12:00 tomorrow"', 0: "", 1: ' -d "12:00 yesterday"'}
_HHMM = re.compile(r"(\d\d):(\d\d)")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_NIGHT_TEXT = ("more closed minutes between a day's last closing and the next day's first opening "
               "than branch__shutdown_grace_minutes + branch__wake_lead_minutes")
_INTERVAL_TEXT = ('["HH:MM", "HH:MM"] local opening and closing times, quoted, closing after '
                  'opening on the same day ("24:00" = midnight), e.g. ["09:00", "17:00"]')



# ---------------------------------------------------------------------------------------------
# Value types


def _clock_minutes(value: Any) -> int:
    """A quoted local ``"HH:MM"`` time as minutes since local midnight (0-1440; "24:00" = 1440).

    Raises:
        pydantic_core.PydanticCustomError: not a quoted HH:MM time; an unquoted time such as
            12:30 arrives as a number (YAML 1.1 reads it as sexagesimal 750) and says so.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        raise fail("time", "a time is unquoted: YAML reads an unquoted 12:30 as the number 750",
                    allowed=_INTERVAL_TEXT)
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise fail("time", "not an HH:MM time", allowed=_INTERVAL_TEXT)
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise fail("time", "not an HH:MM time", allowed=_INTERVAL_TEXT)
    return hour * 60 + minute


def _interval(value: Any) -> tuple[int, int]:
    """``[open, close]`` as minutes since local midnight, ``open < close <= 1440``."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise fail("interval", "not an [open, close] pair of times", allowed=_INTERVAL_TEXT)
    opens, closes = _clock_minutes(value[0]), _clock_minutes(value[1])
    if opens == DAY:
        raise fail("interval", "opens at 24:00: midnight is allowed only as a closing time",
                    allowed=_INTERVAL_TEXT)
    if closes <= opens:
        raise fail("interval", "closes before it opens (or when it opens)",
                    allowed=_INTERVAL_TEXT + "; a day ends at 24:00 and the next day starts "
                    "with its own intervals")
    return opens, closes


def _day_minute(value: Any) -> int:
    """A quoted local ``"HH:MM"`` time of day, 00:00-23:59, as minutes since local midnight."""
    minute = _clock_minutes(value)
    if minute == DAY:
        raise fail("time", "24:00 is the end of a day, not a time of day",
                    allowed='a quoted local time "HH:MM", 00:00-23:59, e.g. "02:00"')
    return minute


def _separate(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A day's intervals, sorted; refused when two overlap or touch."""
    ordered = sorted(intervals)
    for first, second in pairwise(ordered):
        if second[0] <= first[1]:
            raise fail("overlap", "two intervals overlap or touch",
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
    raise fail("date", "not a date", allowed='a date as "YYYY-MM-DD", quoted, e.g. "2027-01-01"')


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
        raise fail("time_zone", "not an IANA time zone")
    if value != "UTC" and value.split("/", 1)[0] not in ZONE_AREAS:
        raise fail("time_zone", "a legacy or fixed-offset zone name (daylight saving would be "
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
    branch__patch_window_start: Annotated[int | None, BeforeValidator(
        lambda v: None if v is None else _day_minute(v))] = Field(
        None, validate_default=True,
        description='a quoted local time "HH:MM" at which a declared daily patch window starts '
                    "(required when the branch never opens or is open around the clock)")

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
            raise fail("grace", "shorter than the patch window needs",
                        allowed="at least branch__patch_delay_minutes + "
                                "branch__patch_window_minutes + branch__shutdown_warning_minutes")
        return grace

    @field_validator("branch__hours")
    @classmethod
    def _nights_long_enough(cls, week: WeekHours, info: ValidationInfo) -> WeekHours:
        if _always_open(week):
            return week  # no night at all: the PCs never shut down
        for today, tomorrow in pairwise((*WEEKDAYS, WEEKDAYS[0])):
            if _short_night(getattr(week, today), getattr(week, tomorrow), info):
                raise fail("night", f"too little closed time between {today}'s last closing "
                                     f"and {tomorrow}'s first opening", allowed=_NIGHT_TEXT)
        return week

    @field_validator("branch__closures")
    @classmethod
    def _closures_consistent(cls, closures: list[Closure], info: ValidationInfo) -> list[Closure]:
        seen: dict[dt.date, int] = {}
        for index, closure in enumerate(closures):
            if closure.date in seen:
                raise fail("closure", f"closures [{seen[closure.date]}] and [{index}] have the "
                                       "same date", allowed="one entry per date")
            seen[closure.date] = index
        week = info.data.get("branch__hours")
        if week is None:
            return closures
        if closures and _always_open(week):
            raise fail("closure", "listed for a branch open around the clock, whose PCs never "
                                   "shut down and wake (a closure would need a shutdown the "
                                   "evening before)",
                        allowed="[] for a branch whose every day is [[\"00:00\", \"24:00\"]]")
        by_date = {closure.date: closure.hours for closure in closures}

        def hours_on(day: dt.date) -> list[tuple[int, int]]:
            return by_date.get(day, getattr(week, WEEKDAYS[day.weekday()]))

        for index, closure in enumerate(closures):
            for day in (closure.date - dt.timedelta(days=1), closure.date):
                if _short_night(hours_on(day), hours_on(day + dt.timedelta(days=1)), info):
                    raise fail("night", f"closure [{index}]: too little closed time between "
                                         f"{day.isoformat()} and the next day",
                                allowed=_NIGHT_TEXT)
        return closures

    @field_validator("branch__patch_window_start")
    @classmethod
    def _declared_where_needed(cls, start: int | None, info: ValidationInfo) -> int | None:
        """A branch with no closing (never open, or open around the clock) must declare its
        patch window; a declared window of any other branch lies outside its opening hours."""
        week, window = info.data.get("branch__hours"), info.data.get(
            "branch__patch_window_minutes")
        if week is None or window is None:
            return start
        days = [getattr(week, name) for name in WEEKDAYS]
        if start is None:
            if not any(days) or _always_open(week):
                shape = "never opens" if not any(days) else "is open around the clock"
                raise fail("patch_window", f"missing: the branch {shape}, so there is no "
                                            "closing to start its patch window after; without "
                                            "it the update timers get no OnCalendar= and "
                                            "security updates stop",
                            allowed='a quoted local time "HH:MM" at which the daily patch '
                                    'window starts, e.g. "02:00"')
            return start
        if _always_open(week):
            return start  # every window is in opening hours: the manager chose this one
        named = [(name, days[i], days[(i + 1) % 7]) for i, name in enumerate(WEEKDAYS)]
        by_date = {c.date: c.hours for c in info.data.get("branch__closures", [])}
        for day, hours in by_date.items():
            tomorrow = day + dt.timedelta(days=1)
            named.append((day.isoformat(), hours, by_date.get(
                tomorrow, getattr(week, WEEKDAYS[tomorrow.weekday()]))))
            yesterday = day - dt.timedelta(days=1)
            named.append((yesterday.isoformat(), by_date.get(
                yesterday, getattr(week, WEEKDAYS[yesterday.weekday()])), hours))
        end = start + window
        for name, today, tomorrow in named:
            clash = [(a, b) for a, b in today if a < end and start < b] + [
                (a, b) for a, b in tomorrow if a + DAY < end]
            if clash:
                raise fail("patch_window", f"the declared patch window ({clock_text(start)} "
                                            f"for {window} minutes) overlaps the opening hours "
                                            f"of {name}",
                            allowed="a start whose branch__patch_window_minutes-long window "
                                    "falls outside every day's opening hours")
        return start

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

    @property
    def always_open(self) -> bool:
        """Whether every weekday is open from 00:00 to 24:00 (no closing: PCs never shut down,
        Wi-Fi never switches, the patch window is declared)."""
        return _always_open(self.branch__hours)

    def closures_notice(self, now: dt.datetime) -> str | None:
        """A warning when the listed closure dates end within :data:`CLOSURES_NOTICE_MONTHS` of
        ``now``'s local date (next year's public holidays are missing, and would be treated as
        opening days); None when they reach further, or when the branch never opens or never
        closes (closures change nothing then).

        Raises:
            ValueError: ``now`` is naive.
        """
        days = [getattr(self.branch__hours, name) for name in WEEKDAYS]
        if self.always_open or not any(days):
            return None
        today = self._local_day(now)
        month = today.month - 1 + CLOSURES_NOTICE_MONTHS
        year, month = today.year + month // 12, month % 12 + 1
        horizon = dt.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        last = max(self._closures, default=None)
        if last is not None and last >= horizon:
            return None
        listed = f"end on {last.isoformat()}" if last else "are not listed at all"
        return (f"branch__closures: the closure dates {listed}, less than "
                f"{CLOSURES_NOTICE_MONTHS} months ahead: next year's public holidays would be "
                "opening days (make closures SITE=<site> suggests them)")

    def closure_on(self, day: dt.date) -> Closure | None:
        """The closure entry of a local date, or None."""
        return self._closures.get(day)

    def hours_on(self, day: dt.date) -> list[tuple[int, int]]:
        """A local date's intervals as ``(open, close)`` minutes since local midnight: the
        closure's hours on a closure date (empty = closed all day), else the weekday's."""
        closure = self._closures.get(day)
        return closure.hours if closure else getattr(self.branch__hours, WEEKDAYS[day.weekday()])

    def _day_events(self, intervals: list[tuple[int, int]]) -> list[tuple[str, int]]:
        """(kind, wall-clock minutes from the opening day's midnight; may be < 0 or >= 1440) of
        an opening day's intervals; none for a branch open around the clock, and no patch
        events when the patch window is declared (:meth:`_declared_patch`)."""
        if not intervals or self.always_open:
            return []
        first, last = intervals[0][0], intervals[-1][1]
        patch = last + self.branch__patch_delay_minutes
        shutdown = last + self.branch__shutdown_grace_minutes
        events = [
            ("wake", first - self.branch__wake_lead_minutes),
            ("wifi_on", first),
            ("wifi_off", last),
            ("patch_start", patch),
            ("patch_end", patch + self.branch__patch_window_minutes),
            ("warn", shutdown - self.branch__shutdown_warning_minutes),
            ("shutdown", shutdown),
        ]
        if self.branch__patch_window_start is not None:
            events = [(kind, at) for kind, at in events if not kind.startswith("patch")]
        return events

    def day_events(self, day: dt.date) -> list[tuple[str, int]]:
        """The events planned for an opening day (a local date), before any DST adjustment:
        ``(kind, wall-clock minutes from that day's midnight)``, may be < 0 or >= 1440."""
        return self._day_events(self.hours_on(day)) + self._declared_patch()

    def _declared_patch(self) -> list[tuple[str, int]]:
        """The declared daily patch window's events (kind, minutes from that day's midnight):
        every date, closed days and closures included; [] when not declared."""
        start = self.branch__patch_window_start
        if start is None:
            return []
        return [("patch_start", start), ("patch_end", start + self.branch__patch_window_minutes)]

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
        current opening when open, else of the next one; None if the hours never open again or
        never close (open around the clock).

        Raises:
            ValueError: ``at`` is naive.
        """
        at = _utc(at)
        if self.always_open:
            return None
        end = next((e for _, e in self._spans_from(at) if e > at), None)
        return self.local(end) if end else None

    def pcs_on(self, at: dt.datetime) -> bool:
        """Whether the branch's public PCs are on by their own schedule at ``at``: from an
        opening day's wake to its shutdown (as :meth:`events` fires them: a wake or shutdown a
        DST gap skips counts as not happening); always for a branch open around the clock,
        never for one that never opens.

        Raises:
            ValueError: ``at`` is naive.
        """
        at = _utc(at)
        if self.always_open:
            return True
        edges: dict[dt.date, dict[str, dt.datetime]] = defaultdict(dict)
        for event in self.events(at - dt.timedelta(days=2), at + dt.timedelta(days=2)):
            if event.kind in ("wake", "shutdown"):
                edges[event.day][event.kind] = event.at.astimezone(UTC)
        return any(e["wake"] <= at < e["shutdown"] for e in edges.values()
                   if len(e) == 2)

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

        A closure date replaces its weekday's events with its own (none when closed all day); a
        declared patch window (``branch__patch_window_start``) opens every day, closures too;
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
            for kind, minute in self.day_events(day):
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

    def exec_condition_argv(self, day_offset: int) -> list[str]:
        """The ``ExecCondition=`` command of a weekday timer firing ``day_offset`` days (-1, 0 or
        1) after its opening day, as an argv: exit 0 (run) unless the opening day, computed in
        the branch's zone with GNU date (``date -I``: ``YYYY-MM-DD``), is listed in
        :data:`CLOSURES_PATH`; no file = nothing listed.

        The day before or after is taken from noon (``date -d "12:00 tomorrow"``): GNU date's
        bare ``tomorrow``/``yesterday`` move by 24 hours, which on a daylight-saving night lands
        on the wrong date (23:45 + 24 h on the night clocks spring forward is 00:45 two days
        later; found by the schedule verifier). The command holds no ``$`` and no ``%``, so no
        systemd specifier or variable expansion applies (``man systemd.service``, "Command
        lines"): the command systemd stores is exactly the one it runs, which the schedule
        verifier (:mod:`libraryops.timer_probe`) replays as of any instant."""
        return ["/bin/sh", "-c", f"! grep -qsxF `TZ={self.branch__timezone} "
                f"date{_OPENING_DAY[day_offset]} -I` {CLOSURES_PATH}"]

    def exec_condition(self, day_offset: int) -> str:
        """:meth:`exec_condition_argv` as a unit-file command line (its script single-quoted)."""
        shell, flag, script = self.exec_condition_argv(day_offset)
        return f"{shell} {flag} '{script}'"

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
              hours, one full-date expression each, e.g. ``2027-12-24 15:00:00 America/New_York``;
            - with a declared patch window, daily patch timers (``-daily``, no condition: they
              fire on closure dates too), e.g. ``*-*-* 02:00:00 America/New_York``.

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
        declared = dict(self._declared_patch())
        for kind, (stem, what) in EVENTS.items():
            if kind in declared:
                timers.append({
                    "unit": f"libraryops-{stem}-daily",
                    "event": kind,
                    "description": f"libraryops: {what} (declared, every day)",
                    "on_calendar": [f"*-*-* {_clock(declared[kind] % DAY)} "
                                    f"{self.branch__timezone}"],
                    "exec_condition": None,
                    "day_offset": None,
                })
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
        """The weekly patch window: weekday (a key of :data:`WEEKDAYS`, open that day, or every
        weekday when the window is declared) -> (start, end) in wall-clock minutes from that
        day's midnight (end may pass 1440, the next day). Closures are not included (their own
        hours apply on their dates)."""
        declared = dict(self._declared_patch())
        if declared:
            return dict.fromkeys(WEEKDAYS, (declared["patch_start"], declared["patch_end"]))
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
        role schedules the apt timers with them); with a declared patch window, one daily
        expression at its start plus ``after_minutes``. They carry no closure condition: on a date
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
        start = self.branch__patch_window_start
        if start is not None:
            return [f"*-*-* {_clock((start + after_minutes) % DAY)} {self.branch__timezone}"]
        shifted = self.model_copy(update={
            "branch__patch_delay_minutes": self.branch__patch_delay_minutes + after_minutes})
        return [expression for timer in shifted.timer_plan()["timers"]
                if timer["event"] == "patch_start" for expression in timer["on_calendar"]]

    def _weekly_spec(self, weekdays: set[int], at: int) -> str:
        days = _weekday_list(weekdays)
        return f"{days + ' ' if days else ''}*-*-* {_clock(at)} {self.branch__timezone}"


def dst_changes(zone: dt.tzinfo, years: Iterable[int]) -> list[dt.date]:
    """The local dates on which ``zone``'s UTC offset changes (daylight saving starts or ends),
    in the given years: the first date whose local noon has the new offset."""
    found = []
    for year in years:
        day = dt.date(year, 1, 1)
        previous = dt.datetime.combine(day, dt.time(12), tzinfo=zone).utcoffset()
        while day.year == year:
            day += dt.timedelta(days=1)
            offset = dt.datetime.combine(day, dt.time(12), tzinfo=zone).utcoffset()
            if offset != previous and day.year == year:
                found.append(day)
            previous = offset
    return found


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


def _always_open(week: WeekHours) -> bool:
    """Whether every weekday of ``week`` is one interval from 00:00 to 24:00."""
    return all(getattr(week, name) == [(0, DAY)] for name in WEEKDAYS)


def _short_night(today: list[tuple[int, int]], tomorrow: list[tuple[int, int]],
                 info: ValidationInfo) -> bool:
    """Whether the closed time between two consecutive days is too short to shut down and wake
    (False when a day is closed or the minutes did not validate)."""
    keys = ("branch__shutdown_grace_minutes", "branch__wake_lead_minutes")
    if not today or not tomorrow or not all(k in info.data for k in keys):
        return False
    return DAY - today[-1][1] + tomorrow[0][0] <= sum(info.data[k] for k in keys)


def clock_text(minute: int) -> str:
    """Minutes since local midnight (0-1440) as ``HH:MM`` (1440 -> ``24:00``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


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
