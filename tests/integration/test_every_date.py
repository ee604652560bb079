"""The date-dependent suites pass as of the days that matter, not only today.

The schedule suites (power, Wi-Fi, updates) run against the converged lab through the
pipeline's own verify phase with the controller's clock set (``LIBRARYOPS_NOW``) to instants
picked from the lab branch's hours: an early-closing day, a day closed all day and the next
daylight-saving change (today is `make lab`'s own run, twice, in test_lab.py). What moves with
the clock: the weeks around "now" in the sweep and the instants the lab-only tests start the real
services at; the hosts' clocks never move.
"""

import datetime as dt

import pytest

from libraryops import clock, paths
from libraryops.engines import Pipeline
from libraryops.hours import BranchHours
from libraryops.hours_values import dst_changes
from libraryops.inventory import load_site

LAB = load_site(paths.site_dir("lab"))
HOURS = BranchHours.from_vars(LAB.hosts[LAB.branches["branch_main"][0]])
#: The suites whose expectations depend on the date.
SUITES = ("tests/testinfra/test_power.py", "tests/testinfra/test_wireless_ap.py",
          "tests/testinfra/test_updates.py")


def _first_from_today(days: list[dt.date]) -> dt.date:
    today = HOURS.local(clock.now()).date()
    return next((d for d in sorted(days) if d >= today), max(days))


def _local(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=HOURS.zone).isoformat()


def instants() -> dict[str, str]:
    """Label -> ISO instant: an early closing's morning, a closed day's noon, a DST change's
    noon, each the first at or after today (else the last the lab lists)."""
    early = _first_from_today([c.date for c in HOURS.branch__closures if c.hours])
    closed = _first_from_today([c.date for c in HOURS.branch__closures if not c.hours])
    year = HOURS.local(clock.now()).year
    change = _first_from_today(dst_changes(HOURS.zone, [year, year + 1]))
    return {f"early closing {early}": _local(early, 10),
            f"closed all day {closed}": _local(closed, 12),
            f"DST change {change}": _local(change, 12)}


@pytest.mark.parametrize("label", list(instants()))
def test_the_date_dependent_suites_pass_as_of(label, monkeypatch):
    instant = instants()[label]
    monkeypatch.setenv(clock.NOW_ENV, instant)
    pipeline = Pipeline("lab", reports=paths.REPORTS / "lab-dates")
    junit = pipeline.reports / f"as-of-{clock.now():%Y%m%dT%H%M}.xml"
    assert pipeline.verify(junit=junit, workers=2, suites=SUITES) == 0, f"as of {instant}"
