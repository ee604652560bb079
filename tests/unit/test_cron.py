"""The workflows' schedules (libraryops.cron): derived from the hours, and a year of their real
firings (expanded by croniter, as GitHub's scheduler reads cron) lands inside each window: the
nightly check when the PCs are on, the catch-up runs when a branch is closed and its PCs on, or
on a day they are off as scheduled."""

import datetime as dt

import pytest
from croniter import croniter

from libraryops import clock, cron, paths
from libraryops.hours import BranchHours
from libraryops.hours_table import branch_hours
from libraryops.hours_values import WEEKDAYS
from libraryops.inventory import load_site

WORKFLOW = paths.REPO / ".github" / "workflows" / "nightly.yml"
NIGHTLY = ("nightly",)
EXAMPLE = list(branch_hours(load_site(paths.INVENTORIES / "example")).values())


def test_the_committed_schedule_is_the_example_sites_derived_one():
    committed = cron.workflow_crons(WORKFLOW.read_text())
    assert committed == cron.crons(EXAMPLE, clock.now().year, ("nightly",))
    assert committed  # the example site opens on some weekdays


def test_a_year_of_firings_finds_the_pcs_on_or_off_as_scheduled():
    committed = cron.workflow_crons(WORKFLOW.read_text())
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    firings = sorted({at for line in committed for at in _firings(line, start, days=365)})
    verified: dict[int, set[dt.date]] = {i: set() for i in range(len(EXAMPLE))}
    for at in firings:
        for index, hours in enumerate(EXAMPLE):
            day = hours.local(at).date()
            if hours.pcs_on(at):
                verified[index].add(day)
            else:  # only on a day the PCs are off by design
                assert hours.closure_on(day) or not _weekday_hours(hours, day), (index, at)
    for index, hours in enumerate(EXAMPLE):
        regular = {start.date() + dt.timedelta(days=n) for n in range(365)}
        regular = {d for d in regular if _weekday_hours(hours, d) and not hours.closure_on(d)}
        assert regular <= verified[index], sorted(regular - verified[index])[:3]


def _weekday_hours(hours: BranchHours, day: dt.date):
    return getattr(hours.branch__hours, WEEKDAYS[day.weekday()])


def _firings(line, start, days):
    it = croniter(line, start - dt.timedelta(seconds=1))
    end = start + dt.timedelta(days=days)
    found = []
    while (at := it.get_next(dt.datetime)) < end:
        found.append(at)
    return found


def _branch(week, timezone="America/New_York"):
    return BranchHours.from_vars({
        "branch__timezone": timezone,
        "branch__hours": {d: [] for d in WEEKDAYS} | week,
        "branch__wake_lead_minutes": 30, "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90, "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 120})


def test_one_line_holds_in_both_offsets_and_weekdays_shift_with_utc():
    # New York 09:00-20:00: wake 08:30, the check from 08:40 EST/EDT = 13:40 UTC (EST) and
    # 12:40 UTC (EDT): the later one holds all year.
    assert cron.crons([_branch({"monday": [["09:00", "20:00"]]})], 2027, NIGHTLY) == ["40 13 * * 1"]
    # Auckland, Monday 09:00: 08:40 NZST/NZDT is Sunday 20:40 or 19:40 UTC.
    assert cron.crons([_branch({"monday": [["09:00", "20:00"]]}, "Pacific/Auckland")],
                      2027, NIGHTLY) == ["40 20 * * 0"]


def test_branches_without_a_shared_minute_are_refused():
    early = _branch({"monday": [["06:00", "08:00"]]})
    late = _branch({"monday": [["18:00", "22:00"]]})
    with pytest.raises(cron.ScheduleError, match="monday: no minute lies in the window"):
        cron.crons([early, late], 2027, NIGHTLY)
