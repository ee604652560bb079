"""deploy/power.py's script computes the next wake as libraryops.hours does.

The rendered ``libraryops-power next-wake EPOCH`` runs here, with this machine's
``systemd-analyze`` and GNU ``date``; a stub ``systemctl`` answers ``show -P TimersCalendar`` with
the plan's wake expressions in systemd's format, and the closures file is the plan's. After every
shutdown and wake in two-week windows with closed days, dates with modified hours,
evening-before wakes and DST changes, the script's next wake must be the module's next.
"""

import datetime as dt
import os
import shlex
import subprocess
from zoneinfo import ZoneInfo

import pytest
import yaml

from deploy.power import render_script
from libraryops import paths
from libraryops.hours import BranchHours
from libraryops.hours_values import WEEKDAYS

PATH_LINE = "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"


def shipped(site, group):
    data = {}
    for file in sorted((paths.INVENTORIES / site / "group_vars" / group).glob("*.yml")):
        data.update(yaml.safe_load(file.read_text()))
    return BranchHours.from_vars(data)


def synthetic(week, closures, timezone, **extra):
    return BranchHours.from_vars(extra | {
        "branch__timezone": timezone,
        "branch__hours": {day: [] for day in WEEKDAYS} | week,
        "branch__closures": closures,
        "branch__wake_lead_minutes": 30,
        "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90,
        "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 150,
    })


#: Monday opens at 00:15 (wake 23:45 on Sunday, the evening before), Saturday until midnight;
#: a closed Monday, a closed Saturday, and a Monday with modified hours (a dated wake).
EVENING_WAKE = synthetic(
    {"monday": [["00:15", "12:00"]], "friday": [["09:00", "18:00"]],
     "saturday": [["10:00", "24:00"]]},
    [{"date": "2027-03-06", "reason": "closed Saturday"},
     {"date": "2027-03-08", "reason": "closed Monday"},
     {"date": "2027-03-15", "hours": [["10:00", "12:00"]], "reason": "late Monday"}],
    "America/New_York")

CASES = {
    "lab main, Christmas and New Year": (shipped("lab", "branch_main"), "2026-12-20"),
    "example east, Thanksgiving": (shipped("example", "branch_east"), "2027-11-22"),
    "evening-before wake, closures, spring forward": (EVENING_WAKE, "2027-03-01"),
}


@pytest.fixture
def power_script(tmp_path):
    """Render the script for a branch; returns a function running ``next-wake EPOCH``."""

    def make(hours: BranchHours):
        plan = hours.timer_plan()
        closures = tmp_path / "closures"
        closures.write_text(plan["closures"])
        stub = tmp_path / "bin"
        stub.mkdir()
        answers = "".join(
            f"  {t['unit']}.timer) printf '%s\\n' "
            + " ".join(shlex.quote(f"{{ OnCalendar={e} ; next_elapse=n/a }}")
                       for e in t["on_calendar"]) + " ;;\n"
            for t in plan["timers"] if t["event"] == "wake")
        (stub / "systemctl").write_text(
            '#!/bin/bash\n[ "$1 $2 $3" = "show -P TimersCalendar" ] || exit 1\n'
            f'case "$4" in\n{answers}esac\n')
        (stub / "systemctl").chmod(0o755)
        text = render_script(hours, "log", "patron")
        assert PATH_LINE in text and f"CLOSURES={plan['closures_path']}\n" in text
        script = tmp_path / "libraryops-power"
        script.write_text(text.replace(PATH_LINE, f"PATH={stub}:/usr/sbin:/usr/bin:/sbin:/bin\n")
                          .replace(f"CLOSURES={plan['closures_path']}\n",
                                   f"CLOSURES={closures}\n"))

        def next_wake(at: dt.datetime) -> int | None:
            proc = subprocess.run(
                ["bash", str(script), "next-wake", str(int(at.timestamp()))],
                capture_output=True, text=True, check=True,
                env={"PATH": os.environ["PATH"], "LC_ALL": "C"})
            return int(proc.stdout.split()[0]) if proc.stdout.strip() else None

        return next_wake

    return make


@pytest.mark.parametrize("case", CASES)
def test_the_next_wake_after_each_shutdown_and_wake_is_the_modules(case, power_script):
    hours, first_day = CASES[case]
    next_wake = power_script(hours)
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=ZoneInfo(hours.branch__timezone))
    end = start + dt.timedelta(days=14)
    # set-wake runs at each shutdown and at each wake (re-arming the next one)
    bases = [start] + [e.at for e in hours.events(start, end) if e.kind in ("shutdown", "wake")]
    assert len(bases) > 6
    for base in bases:
        expected = next(e.at for e in hours.events(base + dt.timedelta(seconds=1),
                                                   base + dt.timedelta(days=60))
                        if e.kind == "wake")
        assert next_wake(base) == int(expected.timestamp()), (base, expected)


def test_a_closed_day_moves_the_wake_and_an_evening_before_wake_counts_for_the_next_day(
        power_script):
    next_wake = power_script(EVENING_WAKE)
    new_york = ZoneInfo("America/New_York")
    # Friday 2027-03-05 shutdown: Saturday 03-06 and Monday 03-08 are closed, so the Sunday
    # 23:45 wake (for Monday) is skipped too; the next is Friday 03-12 08:30.
    friday = dt.datetime(2027, 3, 5, 20, 30, tzinfo=new_york)
    assert next_wake(friday) == int(dt.datetime(2027, 3, 12, 8, 30, tzinfo=new_york).timestamp())
    # Saturday 2027-03-13 (open until midnight): Sunday 23:45 wakes for Monday 03-15, which has
    # modified hours (opens 10:00): no evening-before wake, the dated 09:30 one instead.
    saturday = dt.datetime(2027, 3, 14, 3, 0, tzinfo=new_york)
    assert next_wake(saturday) == int(dt.datetime(2027, 3, 15, 9, 30, tzinfo=new_york).timestamp())
    # The week after: the Sunday-evening wake for Monday 03-22.
    later = dt.datetime(2027, 3, 20, 12, 0, tzinfo=new_york)
    assert next_wake(later) == int(dt.datetime(2027, 3, 21, 23, 45, tzinfo=new_york).timestamp())


def test_no_wake_when_the_branch_never_opens(power_script):
    closed = synthetic({}, [], "Europe/Copenhagen", branch__patch_window_start="02:00")
    assert power_script(closed)(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)) is None
