"""libraryops.hours timers, checked by systemd itself (this machine's ``systemd-analyze``).

For two-week windows that include closure days and DST changes, the instants systemd lists for
every rendered ``OnCalendar=`` expression (:func:`libraryops.timer_probe.expand`), kept when the
timer's real ``ExecCondition=`` command, run with the clock of that instant under libfaketime
(:func:`libraryops.timer_probe.verdict`) against the rendered closures file, lets it act, must
equal the module's events. The units built from the plan pass ``systemd-analyze verify``. The
same probe asks the lab hosts' own systemd (tests/testinfra).
"""

import datetime as dt
import os
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from libraryops import paths, timer_probe
from libraryops.hours import BranchHours
from libraryops.hours_values import CLOSURES_PATH, WEEKDAYS

UTC = dt.UTC
SYSTEMD_ENV = {"TZ": "UTC", "LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
_ELAPSE = re.compile(r"^\s*(?:Next elapse|Iter\. #\d+): \w{3} "
                     r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$")


def shipped(site: str, group: str) -> BranchHours:
    """A shipped branch's hours, read from its group_vars files."""
    data = {}
    for file in sorted((paths.INVENTORIES / site / "group_vars" / group).glob("*.yml")):
        data.update(yaml.safe_load(file.read_text()))
    return BranchHours.from_vars(data)


def synthetic(week, closures=(), timezone="America/New_York", **minutes) -> BranchHours:
    data = {
        "branch__timezone": timezone,
        "branch__hours": {day: [] for day in WEEKDAYS} | week,
        "branch__closures": list(closures),
        "branch__wake_lead_minutes": 30,
        "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90,
        "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 150,
    }
    data.update({f"branch__{key}": value for key, value in minutes.items()})
    return BranchHours.from_vars(data)


#: Saturday open until midnight (shutdown 02:30 on Sunday), Monday from 00:15 (wake 23:45 on
#: Sunday), a closed Saturday and a closed Monday: every day offset and both condition edges.
MIDNIGHT = synthetic(
    {"friday": [["09:00", "18:00"]], "saturday": [["10:00", "24:00"]],
     "monday": [["00:15", "12:00"]]},
    [{"date": "2027-03-06", "reason": "closed Saturday"},
     {"date": "2027-03-08", "reason": "closed Monday"},
     {"date": "2027-11-13", "hours": [["10:00", "24:00"]], "reason": "same hours, dated"}])
COPENHAGEN = synthetic(
    {day: [["10:00", "19:00"]] for day in WEEKDAYS[:4]}
    | {"friday": [["10:00", "17:00"]], "saturday": [["10:00", "14:00"]]},
    [{"date": "2027-03-25", "reason": "Skærtorsdag"},
     {"date": "2027-03-26", "reason": "Langfredag"},
     {"date": "2027-03-29", "reason": "2. påskedag"},
     {"date": "2027-03-31", "hours": [["12:00", "17:00"]], "reason": "Personalemøde"}],
    timezone="Europe/Copenhagen", shutdown_grace_minutes=120)
#: Sunday from 00:15 to 22:30: the wake fires on Saturday at 23:45 and the shutdown on Monday at
#: 00:30, both on the nights New York's clocks change; the spring-forward Sunday is closed. A
#: condition that moved 24 hours instead of one calendar day would pick the wrong opening day.
DST_NIGHTS = synthetic({"sunday": [["00:15", "22:30"]]},
                       [{"date": "2027-03-14", "reason": "closed Sunday"}])
SYDNEY = synthetic({"saturday": [["09:00", "24:00"]], "sunday": [["12:00", "16:00"]]},
                   timezone="Australia/Sydney")

CASES = {
    "lab main, Christmas and New Year": (shipped("lab", "branch_main"), "2027-12-20"),
    "example main, late night to midnight": (shipped("example", "branch_main"), "2027-10-11"),
    "example east, Thanksgiving": (shipped("example", "branch_east"), "2027-11-22"),
    "New York, spring forward": (MIDNIGHT, "2027-03-05"),
    "New York, fall back": (MIDNIGHT, "2027-11-01"),
    "Copenhagen, spring forward and Easter": (COPENHAGEN, "2027-03-22"),
    "New York, timers around midnight on both DST nights (spring)": (DST_NIGHTS, "2027-03-08"),
    "New York, timers around midnight on both DST nights (autumn)": (DST_NIGHTS, "2027-11-01"),
    "Sydney, spring forward": (SYDNEY, "2027-09-27"),
}


def systemd_elapses(expressions: list[str], start: dt.datetime,
                    end: dt.datetime) -> dict[str, list[dt.datetime]]:
    """Normalized form -> the instants in [start, end) that systemd computes for it."""
    return {expression: [dt.datetime.fromtimestamp(i, UTC) for i in instants]
            for expression, instants in timer_probe.expand(
                expressions, int(start.timestamp()), int(end.timestamp())).items()}


def condition_argv(hours: BranchHours, offset: int, closures: Path) -> list[str]:
    """The plan's ExecCondition= command with the closures file at ``closures`` (this machine
    has no /etc/libraryops)."""
    return [arg.replace(CLOSURES_PATH, str(closures))
            for arg in hours.exec_condition_argv(offset)]


def systemd_events(hours: BranchHours, start: dt.datetime, end: dt.datetime,
                   closures: Path) -> list[tuple[dt.datetime, str]]:
    """What the rendered timers do in [start, end): systemd's instants, kept when the timer's
    real condition lets it act as of each instant (the closures file written to ``closures``)."""
    plan = hours.timer_plan()
    closures.write_text(plan["closures"])
    expressions = [e for timer in plan["timers"] for e in timer["on_calendar"]]
    fired = systemd_elapses(expressions, start, end)
    events = []
    for timer in plan["timers"]:
        commands = ([(condition_argv(hours, timer["day_offset"], closures), False)]
                    if timer["exec_condition"] else [])
        for expression in timer["on_calendar"]:
            for at in fired[expression]:
                verdict = timer_probe.verdict(commands, int(at.timestamp()))
                assert verdict in ("acts", "skipped"), verdict
                if verdict == "acts":
                    events.append((at, timer["event"]))
    return sorted(events)


@pytest.mark.parametrize("case", CASES)
def test_systemd_fires_exactly_the_modules_events_for_two_weeks(case, tmp_path):
    hours, first_day = CASES[case]
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=ZoneInfo(hours.branch__timezone))
    end = start + dt.timedelta(days=14)
    expected = sorted((e.at.astimezone(UTC), e.kind) for e in hours.events(start, end))
    assert len(expected) > 5
    assert systemd_events(hours, start, end, tmp_path / "closures") == expected


@pytest.mark.parametrize("case", CASES)
def test_expressions_are_in_systemds_normalized_form(case):
    hours, first_day = CASES[case]
    expressions = [e for t in hours.timer_plan()["timers"] for e in t["on_calendar"]]
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    normalized = systemd_elapses(expressions, start, start + dt.timedelta(days=1))
    assert list(normalized) == list(dict.fromkeys(expressions))


def test_the_windows_cover_what_they_claim():
    def between(start, end):
        return MIDNIGHT.events(dt.datetime(*start, tzinfo=UTC), dt.datetime(*end, tzinfo=UTC))

    # 02:20 and 02:30 on 2027-03-14 do not exist in New York: no warning, no shutdown.
    spring = between((2027, 3, 14, 4), (2027, 3, 14, 12))  # Saturday 23:00 EST to 08:00 EDT
    assert [e.kind for e in spring] == ["wifi_off", "patch_start", "patch_end"]
    # Closed Saturday 2027-03-06 and Monday 2027-03-08: only Friday's events are left.
    assert {e.day for e in between((2027, 3, 6), (2027, 3, 9))} == {dt.date(2027, 3, 5)}
    # 01:45 on 2027-11-07 happens twice: the patch window ends at the first (EDT).
    autumn = between((2027, 11, 7), (2027, 11, 8))
    assert [(e.kind, e.at.tzname()) for e in autumn][2] == ("patch_end", "EDT")


def test_the_lab_plan():
    plan = shipped("lab", "branch_main").timer_plan()
    units = {t["unit"]: t for t in plan["timers"]}
    assert list(units) == [
        "libraryops-wake", "libraryops-wake-dated", "libraryops-wifi-on",
        "libraryops-wifi-on-dated", "libraryops-wifi-off", "libraryops-wifi-off-dated",
        "libraryops-patch-start", "libraryops-patch-start-dated", "libraryops-patch-end",
        "libraryops-patch-end-dated", "libraryops-shutdown-warning",
        "libraryops-shutdown-warning-dated", "libraryops-shutdown", "libraryops-shutdown-dated"]
    assert units["libraryops-wake"]["on_calendar"] == [
        "Mon,Tue,Thu,Fri *-*-* 08:30:00 America/New_York",
        "Sat *-*-* 09:30:00 America/New_York",
        "Wed *-*-* 11:30:00 America/New_York",
    ]
    assert units["libraryops-shutdown"]["on_calendar"] == [
        "Sat *-*-* 19:00:00 America/New_York",
        "Fri *-*-* 20:00:00 America/New_York",
        "Mon..Thu *-*-* 22:00:00 America/New_York",
    ]
    assert units["libraryops-shutdown"]["day_offset"] == 0
    assert CLOSURES_PATH in units["libraryops-shutdown"]["exec_condition"]
    assert units["libraryops-shutdown-dated"] == {
        "unit": "libraryops-shutdown-dated", "event": "shutdown",
        "description": "libraryops: public PCs power off (dates with modified hours)",
        "on_calendar": ["2026-12-24 15:00:00 America/New_York",
                        "2026-12-31 17:00:00 America/New_York",
                        "2027-11-24 19:00:00 America/New_York",
                        "2027-12-24 15:00:00 America/New_York",
                        "2027-12-31 17:00:00 America/New_York"],
        "exec_condition": None, "day_offset": None}
    lines = plan["closures"].splitlines()
    assert all(line.startswith("# ") for line in lines[:2])
    assert lines[2:5] == ["2026-12-24", "2026-12-25", "2026-12-31"]
    assert len(lines) == 2 + 17 and lines[-1] == "2028-01-01"


def test_events_after_midnight_get_their_own_units_checking_the_opening_day():
    units = {t["unit"]: t for t in MIDNIGHT.timer_plan()["timers"]}
    assert units["libraryops-shutdown-after-midnight"]["on_calendar"] == [
        "Sun *-*-* 02:30:00 America/New_York"]
    assert units["libraryops-shutdown-after-midnight"]["day_offset"] == 1
    after = units["libraryops-shutdown-after-midnight"]["exec_condition"]
    assert 'date -d "12:00 yesterday" -I' in after
    assert units["libraryops-wake-before-midnight"]["on_calendar"] == [
        "Sun *-*-* 23:45:00 America/New_York"]
    before = units["libraryops-wake-before-midnight"]["exec_condition"]
    assert 'date -d "12:00 tomorrow" -I' in before
    assert units["libraryops-shutdown-dated"]["on_calendar"] == [
        "2027-11-14 02:30:00 America/New_York"]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_exec_condition_skips_exactly_when_the_opening_day_is_listed(tmp_path, offset):
    """Run as of 23:59:30 and 00:00:30 local around a listed opening day: the condition looks
    at the opening day in the branch's zone (Auckland, far from this machine's), whatever the
    machine's own zone, on the night daylight saving time ends there too."""
    hours = synthetic({}, timezone="Pacific/Auckland", patch_window_start="02:00")
    closures = tmp_path / "closures"
    opening_day = dt.date(2027, 4, 4)  # the day New Zealand's daylight saving time ends
    closures.write_text(f"# header\n{opening_day}\n{opening_day + dt.timedelta(days=7)}\n")
    argv = condition_argv(hours, offset, closures)
    fires_on = opening_day + dt.timedelta(days=offset)
    zone = ZoneInfo("Pacific/Auckland")

    def at(day, *clock):
        return int(dt.datetime.combine(day, dt.time(*clock), tzinfo=zone).timestamp())

    assert timer_probe.run_as_of(argv, at(fires_on, 0, 0, 30)) == 1
    assert timer_probe.run_as_of(argv, at(fires_on, 23, 59, 30)) == 1
    assert timer_probe.run_as_of(argv, at(fires_on - dt.timedelta(days=1), 23, 59, 30)) == 0
    assert timer_probe.run_as_of(argv, at(fires_on + dt.timedelta(days=1), 0, 0, 30)) == 0
    missing = [a.replace(str(closures), str(tmp_path / "missing")) for a in argv]
    assert timer_probe.run_as_of(missing, at(fires_on, 12)) == 0  # no file: weekly hours apply


def test_a_condition_systemd_would_expand_is_not_replayed():
    assert timer_probe.verdict([(["/bin/sh", "-c", "exit $X"], False)], 0).startswith(
        "failed: /bin/sh: holds '$'")


def test_units_built_from_the_plan_pass_systemd_analyze_verify(tmp_path):
    for timer in MIDNIGHT.timer_plan()["timers"]:
        calendars = "".join(f"OnCalendar={e}\n" for e in timer["on_calendar"])
        condition = f"ExecCondition={timer['exec_condition']}\n" if timer["exec_condition"] else ""
        (tmp_path / f"{timer['unit']}.timer").write_text(
            f"[Unit]\nDescription={timer['description']}\n[Timer]\n{calendars}")
        (tmp_path / f"{timer['unit']}.service").write_text(
            f"[Unit]\nDescription={timer['description']}\n[Service]\nType=oneshot\n"
            f"{condition}ExecStart=/bin/true\n")
    units = sorted(str(p) for p in tmp_path.iterdir())
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], env=SYSTEMD_ENV,
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert len(units) == 2 * len(MIDNIGHT.timer_plan()["timers"])
