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

The values the model is made of (times, intervals, a week, a closure, the time zone check, the
shared constants) are in :mod:`libraryops.hours_values`; what hosts get (the closures file, the
timer plan, the patch calendar) in :mod:`libraryops.hours_timers`, a part of
:class:`BranchHours`. The hours table of a site for people (``make hours``) and the instants as
people read them are in :mod:`libraryops.hours_table`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator, Mapping
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

from libraryops.hours_timers import TimerRendering
from libraryops.hours_values import (
    CLOSURES_NOTICE_MONTHS,
    DAY,
    EVENTS,
    NIGHT_TEXT,
    STATE_AFTER,
    UTC,
    WEEKDAYS,
    Closure,
    Event,
    WeekHours,
    as_utc,
    clock_text,
    day_minute,
    iana_time_zone,
    minutes_field,
    open_around_the_clock,
    short_night,
)
from libraryops.problem import fail


class BranchHours(TimerRendering, BaseModel):
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
    branch__wake_lead_minutes: int = minutes_field(5, 240, "PCs wake this long before opening")
    branch__shutdown_warning_minutes: int = minutes_field(1, 60, "warning before the shutdown")
    branch__patch_delay_minutes: int = minutes_field(0, 240, "patch window start after closing")
    branch__patch_window_minutes: int = minutes_field(15, 480, "length of the patch window")
    branch__shutdown_grace_minutes: int = minutes_field(
        0, 720, "PCs power off this long after closing, at least delay + window + warning")
    branch__hours: WeekHours = Field(description=", ".join(WEEKDAYS) + ": lists of intervals")
    branch__closures: list[Closure] = Field(
        [], description='a list of {date: "YYYY-MM-DD", hours: [...], reason: text}; '
                        "no hours = closed all day")
    branch__patch_window_start: Annotated[int | None, BeforeValidator(
        lambda v: None if v is None else day_minute(v))] = Field(
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
        if open_around_the_clock(week):
            return week  # no night at all: the PCs never shut down
        for today, tomorrow in pairwise((*WEEKDAYS, WEEKDAYS[0])):
            if short_night(getattr(week, today), getattr(week, tomorrow), info):
                raise fail("night", f"too little closed time between {today}'s last closing "
                                     f"and {tomorrow}'s first opening", allowed=NIGHT_TEXT)
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
        if closures and open_around_the_clock(week):
            raise fail("closure", "listed for a branch open around the clock, whose PCs never "
                                   "shut down and wake (a closure would need a shutdown the "
                                   "evening before)",
                        allowed="[] for a branch whose every day is [[\"00:00\", \"24:00\"]]")
        by_date = {closure.date: closure.hours for closure in closures}

        def hours_on(day: dt.date) -> list[tuple[int, int]]:
            return by_date.get(day, getattr(week, WEEKDAYS[day.weekday()]))

        for index, closure in enumerate(closures):
            for day in (closure.date - dt.timedelta(days=1), closure.date):
                if short_night(hours_on(day), hours_on(day + dt.timedelta(days=1)), info):
                    raise fail("night", f"closure [{index}]: too little closed time between "
                                         f"{day.isoformat()} and the next day",
                                allowed=NIGHT_TEXT)
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
            if not any(days) or open_around_the_clock(week):
                shape = "never opens" if not any(days) else "is open around the clock"
                raise fail("patch_window", f"missing: the branch {shape}, so there is no "
                                            "closing to start its patch window after; without "
                                            "it the update timers get no OnCalendar= and "
                                            "security updates stop",
                            allowed='a quoted local time "HH:MM" at which the daily patch '
                                    'window starts, e.g. "02:00"')
            return start
        if open_around_the_clock(week):
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
        return open_around_the_clock(self.branch__hours)

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
        wall = as_utc(at).astimezone(self.zone)
        return wall.astimezone(dt.timezone(wall.utcoffset(), wall.tzname()))

    def _local_day(self, at: dt.datetime) -> dt.date:
        return as_utc(at).astimezone(self.zone).date()

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
        at = as_utc(at)
        for start, end in self._spans_from(at):
            if start > at:
                return False
            if at < end:
                return True
        return False

    def state(self, at: dt.datetime) -> str:
        """The branch's state at ``at`` as the monitoring host publishes it: the
        :data:`STATE_AFTER` of the last state event fired at or before ``at`` (as :meth:`events`
        fires them, so the timers that publish it later agree); "open" for a branch open around
        the clock, "closed" when no event fired in the 8 days before (a branch that never opens
        and declares no patch window).

        Raises:
            ValueError: ``at`` is naive.
        """
        at = as_utc(at)
        if self.always_open:
            return "open"
        fired = [e for e in self.events(at - dt.timedelta(days=8), at + dt.timedelta(seconds=1))
                 if e.kind in STATE_AFTER and e.at <= at]
        return STATE_AFTER[fired[-1].kind] if fired else "closed"

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """The first opening strictly after ``at`` (local, see :meth:`local`), or None if the
        hours never open again.

        Raises:
            ValueError: ``at`` is naive.
        """
        at = as_utc(at)
        start = next((s for s, _ in self._spans_from(at) if s > at), None)
        return self.local(start) if start else None

    def next_closing(self, at: dt.datetime) -> dt.datetime | None:
        """The first closing strictly after ``at`` (local, see :meth:`local`): the end of the
        current opening when open, else of the next one; None if the hours never open again or
        never close (open around the clock).

        Raises:
            ValueError: ``at`` is naive.
        """
        at = as_utc(at)
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
        at = as_utc(at)
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
        start, end = as_utc(start), as_utc(end)
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
        start, end = as_utc(start), as_utc(end)
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
