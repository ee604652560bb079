"""libraryops.hours timers, checked by systemd itself (this machine's ``systemd-analyze``).

For two-week windows that include closure days and DST changes, the instants systemd lists for
every rendered ``OnCalendar=`` expression, minus the weekday-timer instants whose opening day is
in the rendered closures file (what the ``ExecCondition=`` does), must equal the module's events.
The condition's shell command is run for real against a closures file, and the units built from
the plan pass ``systemd-analyze verify``.
"""

import datetime as dt
import os
import re
import shlex
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from libraryops import paths
from libraryops.hours import CLOSURES_PATH, WEEKDAYS, BranchHours

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
SYDNEY = synthetic({"saturday": [["09:00", "24:00"]], "sunday": [["12:00", "16:00"]]},
                   timezone="Australia/Sydney")

CASES = {
    "lab main, Christmas and New Year": (shipped("lab", "branch_main"), "2027-12-20"),
    "example main, late night to midnight": (shipped("example", "branch_main"), "2027-10-11"),
    "example east, Thanksgiving": (shipped("example", "branch_east"), "2027-11-22"),
    "New York, spring forward": (MIDNIGHT, "2027-03-05"),
    "New York, fall back": (MIDNIGHT, "2027-11-01"),
    "Copenhagen, spring forward and Easter": (COPENHAGEN, "2027-03-22"),
    "Sydney, spring forward": (SYDNEY, "2027-09-27"),
}


def systemd_elapses(expressions: list[str], start: dt.datetime, end: dt.datetime,
                    iterations: int = 16) -> dict[str, list[dt.datetime]]:
    """Normalized form -> the instants in [start, end) that systemd computes for it (16 are
    more than a daily expression has in two weeks)."""
    proc = subprocess.run(
        ["systemd-analyze", "calendar", f"--base-time=@{int(start.timestamp()) - 1}",
         f"--iterations={iterations}", *expressions],
        env=SYSTEMD_ENV, capture_output=True, text=True, check=True)
    found: dict[str, list[dt.datetime]] = {}
    current: list[dt.datetime] = []
    for line in proc.stdout.splitlines():
        if line.startswith("Normalized form: "):
            current = found.setdefault(line.removeprefix("Normalized form: "), [])
        elif match := _ELAPSE.match(line):
            at = dt.datetime.fromisoformat(match[1]).replace(tzinfo=UTC)
            if start <= at < end:
                current.append(at)
    return found


def systemd_events(hours: BranchHours, start: dt.datetime,
                   end: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """What the rendered timers do in [start, end), according to systemd and the closures file."""
    plan = hours.timer_plan()
    closures = {dt.date.fromisoformat(line) for line in plan["closures"].splitlines()
                if line and not line.startswith("#")}
    expressions = [e for timer in plan["timers"] for e in timer["on_calendar"]]
    fired = systemd_elapses(expressions, start, end)
    events = []
    for timer in plan["timers"]:
        for expression in timer["on_calendar"]:
            for at in fired[expression]:
                local_day = at.astimezone(ZoneInfo(hours.branch__timezone)).date()
                opening_day = local_day - dt.timedelta(days=timer["day_offset"] or 0)
                if timer["exec_condition"] and opening_day in closures:
                    continue  # the ExecCondition skips it
                events.append((at, timer["event"]))
    return sorted(events)


@pytest.mark.parametrize("case", CASES)
def test_systemd_fires_exactly_the_modules_events_for_two_weeks(case):
    hours, first_day = CASES[case]
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=ZoneInfo(hours.branch__timezone))
    end = start + dt.timedelta(days=14)
    expected = sorted((e.at.astimezone(UTC), e.kind) for e in hours.events(start, end))
    assert len(expected) > 20
    assert systemd_events(hours, start, end) == expected


@pytest.mark.parametrize("case", CASES)
def test_expressions_are_in_systemds_normalized_form(case):
    hours, first_day = CASES[case]
    expressions = [e for t in hours.timer_plan()["timers"] for e in t["on_calendar"]]
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    normalized = systemd_elapses(expressions, start, start, iterations=1)
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
    assert "date -d yesterday +%%F" in units["libraryops-shutdown-after-midnight"]["exec_condition"]
    assert units["libraryops-wake-before-midnight"]["on_calendar"] == [
        "Sun *-*-* 23:45:00 America/New_York"]
    assert "date -d tomorrow +%%F" in units["libraryops-wake-before-midnight"]["exec_condition"]
    assert units["libraryops-shutdown-dated"]["on_calendar"] == [
        "2027-11-14 02:30:00 America/New_York"]


def _run_condition(command: str, closures: Path) -> int:
    """Run an ExecCondition= line as systemd would: unescape %% and $$, split, execute."""
    unit_line = command.replace(CLOSURES_PATH, str(closures))
    argv = shlex.split(unit_line.replace("%%", "%").replace("$$", "$"))
    return subprocess.run(argv, check=False).returncode


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_exec_condition_skips_exactly_when_the_opening_day_is_listed(tmp_path, offset):
    hours = synthetic({}, timezone="Pacific/Auckland")
    closures = tmp_path / "closures"
    command = hours.exec_condition(offset)
    for _ in range(3):  # retried if the test straddles midnight in Auckland
        today = dt.datetime.now(hours.zone).date()
        opening_day = today - dt.timedelta(days=offset)
        closures.write_text(f"# header\n{opening_day - dt.timedelta(days=1)}\n")
        runs_on_other_day = _run_condition(command, closures)
        closures.write_text(f"# header\n{opening_day}\n{opening_day + dt.timedelta(days=7)}\n")
        skipped_on_listed_day = _run_condition(command, closures)
        if dt.datetime.now(hours.zone).date() == today:
            break
    assert (runs_on_other_day, skipped_on_listed_day) == (0, 1)
    assert _run_condition(command, tmp_path / "missing") == 0  # no file: the weekly hours apply


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
