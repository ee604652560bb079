"""The open-hours guard, with a fixed clock: refuses in opening hours unless forced.

A two-branch site built in memory: Main in New York (Mon-Fri 09:00-20:00) and Harbour in
Copenhagen (Mon-Sat 10:00-19:00). 2027-03-01 is a Monday; 13:30 UTC is 08:30 in New York (Main
closed) and 14:30 in Copenhagen (Harbour open). The CLI runs against the shipped lab site.
"""

import datetime as dt
import re
from pathlib import Path

import pytest

from libraryops import guard, paths
from libraryops.hours_values import WEEKDAYS
from libraryops.inventory import InventoryError, SiteInventory

UTC = dt.UTC
MINUTES = {
    "branch__wake_lead_minutes": 30,
    "branch__patch_delay_minutes": 15,
    "branch__patch_window_minutes": 90,
    "branch__shutdown_warning_minutes": 10,
    "branch__shutdown_grace_minutes": 120,
}
MAIN = {
    "branch__name": "Main Library",
    "branch__timezone": "America/New_York",
    "branch__hours": {day: [["09:00", "20:00"]] if day in WEEKDAYS[:5] else []
                      for day in WEEKDAYS},
    "branch__closures": [{"date": "2027-12-24", "reason": "Christmas Eve"}],
    **MINUTES,
}
HARBOUR = {
    "branch__name": "Harbour Branch",
    "branch__timezone": "Europe/Copenhagen",
    "branch__hours": {day: [["10:00", "19:00"]] if day != "sunday" else [] for day in WEEKDAYS},
    **MINUTES,
}
SITE = SiteInventory(
    path=Path("/nonexistent/site"),
    hosts={"main-pub-01": MAIN, "main-staff-01": MAIN, "harbour-pub-01": HARBOUR,
           "orphan-01": {}},
    groups={
        "public_pcs": ["harbour-pub-01", "main-pub-01"],
        "staff_machines": ["main-staff-01", "orphan-01"],
        "branch_main": ["main-pub-01", "main-staff-01"],
        "branch_harbour": ["harbour-pub-01"],
    },
)
MAIN_CLOSED_HARBOUR_OPEN = dt.datetime(2027, 3, 1, 13, 30, tzinfo=UTC)
BOTH_OPEN = dt.datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # 10:00 EST, 16:00 CET
BOTH_CLOSED = dt.datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def test_an_open_branch_refuses_naming_it_and_when_it_next_closes_in_local_time():
    decision = guard.check(SITE, "main-pub-01", BOTH_OPEN, force=False)
    assert decision == guard.Decision(False, (
        "refused: branch_main (Main Library) is open now (Mon 1 Mar 2027 10:00 EST) and next "
        "closes at Mon 1 Mar 2027 20:00 EST; run this after closing, or add FORCE=1 to "
        "override",))


def test_a_closed_branch_allows():
    decision = guard.check(SITE, "branch_main", BOTH_CLOSED, force=False)
    assert decision.allowed
    assert decision.lines == ("ok: branch_main (Main Library) is closed now (Sun 28 Feb 2027 "
                              "21:00 EST); it opens Mon 1 Mar 2027 09:00 EST",)


def test_force_goes_ahead_and_says_so():
    decision = guard.check(SITE, "branch_main", BOTH_OPEN, force=True)
    assert decision.allowed
    assert decision.lines[0].startswith("FORCE=1: going ahead although branch_main (Main "
                                        "Library) is open now")


def test_each_branch_is_judged_in_its_own_time_zone():
    assert guard.check(SITE, "main-pub-01", MAIN_CLOSED_HARBOUR_OPEN, force=False).allowed
    harbour = guard.check(SITE, "harbour-pub-01", MAIN_CLOSED_HARBOUR_OPEN, force=False)
    assert not harbour.allowed
    assert "(Mon 1 Mar 2027 14:30 CET) and next closes at Mon 1 Mar 2027 19:00 CET" \
        in harbour.lines[0]


def test_a_function_group_concerns_every_branch_it_spans():
    decision = guard.check(SITE, "public_pcs", MAIN_CLOSED_HARBOUR_OPEN, force=False)
    assert not decision.allowed
    assert [line.split(":")[0] for line in decision.lines] == ["refused", "ok"]
    assert "branch_harbour" in decision.lines[0] and "branch_main" in decision.lines[1]


@pytest.mark.parametrize(("limit", "hosts"), [
    ("", ["harbour-pub-01", "main-pub-01", "main-staff-01", "orphan-01"]),
    ("all", ["harbour-pub-01", "main-pub-01", "main-staff-01", "orphan-01"]),
    ("public_pcs:&branch_main", ["main-pub-01"]),
    ("&branch_main,public_pcs", ["main-pub-01"]),
    ("all:!branch_main", ["harbour-pub-01", "orphan-01"]),
    ("!branch_main", ["harbour-pub-01", "orphan-01"]),
    ("main-pub-01,harbour-pub-01", ["harbour-pub-01", "main-pub-01"]),
])
def test_limit_patterns_select_hosts_as_ansible_does(limit, hosts):
    assert guard.hosts_for_limit(SITE, limit) == hosts


def test_an_intersection_leaves_out_the_other_branch():
    assert guard.check(SITE, "public_pcs:&branch_main", MAIN_CLOSED_HARBOUR_OPEN, False).allowed


@pytest.mark.parametrize("limit", ["nosuchhost", "main-*", "~main.*", "public_pcs[0]"])
def test_a_limit_the_guard_cannot_evaluate_is_an_error(limit):
    with pytest.raises(InventoryError, match=re.escape(f"LIMIT={limit}: ")):
        guard.check(SITE, limit, BOTH_CLOSED, force=False)


def test_a_host_in_no_branch_never_refuses():
    assert guard.check(SITE, "orphan-01", BOTH_OPEN, force=False) == guard.Decision(True, ())


def test_a_closure_day_allows_during_the_weekly_hours():
    christmas_eve_noon = dt.datetime(2027, 12, 24, 17, 0, tzinfo=UTC)
    assert guard.check(SITE, "branch_main", christmas_eve_noon, force=False).allowed


def test_invalid_hours_refuse_unless_forced():
    broken = SiteInventory(SITE.path, {"pc": {**MAIN, "branch__hours": {}}},
                           {"branch_main": ["pc"]})
    refused = guard.check(broken, "pc", BOTH_CLOSED, force=False)
    assert not refused.allowed
    assert "branch_main (Main Library): its hours do not validate" in refused.lines[0]
    assert guard.check(broken, "pc", BOTH_CLOSED, force=True).allowed


def test_a_naive_clock_is_refused():
    with pytest.raises(ValueError, match="naive"):
        guard.check(SITE, "branch_main", dt.datetime(2027, 3, 1, 12, 0), force=False)


# --- the CLI, against the shipped lab site (Main Library, Monday 09:00-20:00 New York) -------

LAB = str(paths.INVENTORIES / "lab")


def test_cli_refuses_in_opening_hours_with_exit_1(capsys):
    code = guard.main(["--site-dir", LAB, "--limit", "public_pcs",
                       "--now", "2027-03-01T14:00-05:00"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("guard: refused: branch_main (Main Library) is open now")
    assert "next closes at Mon 1 Mar 2027 20:00 EST" in err


def test_cli_allows_after_closing_and_when_forced(capsys):
    assert guard.main(["--site-dir", LAB, "--limit", "main-pub-01",
                       "--now", "2027-03-01T22:30-05:00"]) == 0
    assert guard.main(["--site-dir", LAB, "--limit", "branch_main", "--force",
                       "--now", "2027-03-01T14:00-05:00"]) == 0
    out = capsys.readouterr().out
    assert "guard: ok: branch_main (Main Library) is closed now" in out
    assert "guard: FORCE=1: going ahead" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["--site-dir", str(paths.INVENTORIES / "example"), "--limit", "all"], "documentation"),
    (["--site-dir", LAB, "--limit", " "], "LIMIT= is empty"),
    (["--site-dir", LAB, "--limit", "all", "--now", "2027-03-01T14:00"], "give an offset"),
    (["--site-dir", LAB, "--limit", "nosuchgroup"], "not a host or group"),
])
def test_cli_fails_closed(capsys, argv, message):
    assert guard.main(argv) == 1
    assert message in capsys.readouterr().err
