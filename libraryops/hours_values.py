"""The values of library hours: times, intervals, a week's hours, a closure, a time zone, an event,
and the constants every part of the hours model shares (:mod:`libraryops.hours` is the model).

Times are minutes since local midnight (0-1440, "24:00" = 1440); every validator raises
:func:`libraryops.problem.fail` with what is allowed, never the value.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

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
#: What the monitoring host publishes for a branch (role monitoring): the state each event puts
#: it in (its public PCs waking before opening, open, closed, or in its patch window).
STATE_AFTER = {"wake": "wake_lead", "wifi_on": "open", "wifi_off": "closed",
               "patch_start": "patch", "patch_end": "closed", "shutdown": "closed"}
#: Every state of :data:`STATE_AFTER`, in the order of a day.
BRANCH_STATES = ("closed", "wake_lead", "open", "patch")
#: Day offset of a weekday timer (the day it fires minus the opening day) -> unit name suffix.
OFFSET_SUFFIX = {-1: "-before-midnight", 0: "", 1: "-after-midnight"}
#: The ``date`` argument that yields the opening day when a timer of that offset fires.
OPENING_DAY_ARG = {-1: ' -d "12:00 tomorrow"', 0: "", 1: ' -d "12:00 yesterday"'}
_HHMM = re.compile(r"(\d\d):(\d\d)")
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
NIGHT_TEXT = ("more closed minutes between a day's last closing and the next day's first opening "
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


def day_minute(value: Any) -> int:
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
DAY_TEXT = ('a list of zero or more intervals ["HH:MM", "HH:MM"] (local opening and closing '
             'times, quoted, "24:00" = midnight), e.g. [["09:00", "12:00"], ["13:00", "20:00"]]; '
             "[] = closed")


def minutes_field(low: int, high: int, what: str) -> Any:
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

    monday: DayHours = Field(description=DAY_TEXT)
    tuesday: DayHours = Field(description=DAY_TEXT)
    wednesday: DayHours = Field(description=DAY_TEXT)
    thursday: DayHours = Field(description=DAY_TEXT)
    friday: DayHours = Field(description=DAY_TEXT)
    saturday: DayHours = Field(description=DAY_TEXT)
    sunday: DayHours = Field(description=DAY_TEXT)


class Closure(BaseModel):
    """One entry of ``branch__closures``: a local date whose hours replace its weekday's.

    ``hours`` empty (the default) = closed all day; otherwise the day's modified hours, as in
    :class:`WeekHours`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Annotated[dt.date, BeforeValidator(_closure_date)] = Field(
        description='a date as "YYYY-MM-DD", quoted, e.g. "2027-01-01"')
    hours: DayHours = Field([], description=DAY_TEXT + " all day (the default)")
    reason: str = Field(strict=True, min_length=1,
                        description="text shown by make hours, e.g. New Year's Day")




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
        at: when it fires: aware, at the branch's local offset
            (:meth:`libraryops.hours.BranchHours.local`).
        day: the local opening day it belongs to (a shutdown after a midnight closing fires the
            next day); a closure on that day replaces it.
    """

    kind: str
    at: dt.datetime
    day: dt.date


def as_utc(at: dt.datetime) -> dt.datetime:
    """An aware instant in UTC.

    Raises:
        ValueError: ``at`` is naive (its zone would be a guess).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()}: a naive datetime; give an aware instant")
    return at.astimezone(UTC)


def open_around_the_clock(week: WeekHours) -> bool:
    """Whether every weekday of ``week`` is one interval from 00:00 to 24:00."""
    return all(getattr(week, name) == [(0, DAY)] for name in WEEKDAYS)


def short_night(today: list[tuple[int, int]], tomorrow: list[tuple[int, int]],
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


def systemd_time(minute: int) -> str:
    """Minutes since midnight (0-1439) as systemd's ``HH:MM:SS``."""
    return f"{minute // 60:02d}:{minute % 60:02d}:00"


def systemd_weekdays(weekdays: set[int]) -> str:
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
