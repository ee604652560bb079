"""The hours checker of ``make validate``: each bad input named by file, branch and key.

One throwaway site holds a branch per bad input (one host each), so Ansible reads it once; each
test reads the problems of its own branch. The shipped sites must have none.
"""

from pathlib import Path

import pytest

from libraryops import clock, paths
from libraryops.hours_values import WEEKDAYS
from libraryops.inventory import load_site
from libraryops.validation import run as validation
from libraryops.validation.base import Problem, Site
from libraryops.validation.branches import check_branches
from libraryops.validation.files import parse_site
from libraryops.validation.hours import check_calendar, check_hours

GOOD_HOURS = """\
branch__hours:
  monday: [["09:00", "20:00"]]
  tuesday: [["09:00", "20:00"]]
  wednesday: [["12:00", "20:00"]]
  thursday: [["09:00", "20:00"]]
  friday: [["09:00", "18:00"]]
  saturday: [["10:00", "17:00"]]
  sunday: []
branch__closures:
  - {date: "2027-01-01", reason: New Year's Day}
  - {date: "2027-12-24", hours: [["09:00", "13:00"]], reason: Christmas Eve}
branch__wake_lead_minutes: 30
branch__patch_delay_minutes: 15
branch__patch_window_minutes: 90
branch__shutdown_warning_minutes: 10
branch__shutdown_grace_minutes: 120
"""
WEEK = GOOD_HOURS[GOOD_HOURS.index("  monday"):GOOD_HOURS.index("branch__closures")]
CLOSURES = GOOD_HOURS[GOOD_HOURS.index("branch__closures"):GOOD_HOURS.index("branch__wake")]
GOOD_BRANCH = """\
branch__name: Test Branch
branch__timezone: America/New_York
branch__catalog_url: http://catalog.invalid/
"""

#: branch -> (file under the branch's group_vars, old text, new text).
EDITS = {
    "closebeforeopen": ("hours.yml", 'wednesday: [["12:00", "20:00"]]',
                        'wednesday: [["20:00", "12:00"]]'),
    "overlap": ("hours.yml", 'friday: [["09:00", "18:00"]]',
                'friday: [["09:00", "13:00"], ["12:00", "18:00"]]'),
    "badzone": ("branch.yml", "America/New_York", "America/New_Yrok"),
    "nozone": ("branch.yml", "branch__timezone: America/New_York\n", ""),
    "typo": ("hours.yml", "wednesday:", "wendesday:"),
    "notadate": ("hours.yml", '"2027-01-01"', '"2027-02-30"'),
    "unquoted": ("hours.yml", 'thursday: [["09:00", "20:00"]]', 'thursday: [[12:00, "20:00"]]'),
    "leadrange": ("hours.yml", "wake_lead_minutes: 30", "wake_lead_minutes: 300"),
    "gracerange": ("hours.yml", "grace_minutes: 120", "grace_minutes: 800"),
    "graceshort": ("hours.yml", "grace_minutes: 120", "grace_minutes: 100"),
    "shortnight": ("hours.yml", 'friday: [["09:00", "18:00"]]\n  saturday: [["10:00", "17:00"]]',
                   'friday: [["09:00", "24:00"]]\n  saturday: [["01:00", "17:00"]]'),
    "sitewide": ("hours.yml", "branch__wake_lead_minutes: 30\n", ""),
    "neveropen": ("hours.yml", WEEK, "".join(f"  {d}: []\n" for d in WEEKDAYS)),
    "alwaysopen": ("hours.yml", WEEK + CLOSURES,
                   "".join(f'  {d}: [["00:00", "24:00"]]\n' for d in WEEKDAYS)),
    "overlapwindow": ("hours.yml", "grace_minutes: 120\n",
                      'grace_minutes: 120\nbranch__patch_window_start: "19:00"\n'),
    "dstgap": ("hours.yml", "sunday: []", 'sunday: [["02:30", "17:00"]]'),
    "dstrepeat": ("hours.yml", "sunday: []", 'sunday: [["01:30", "17:00"]]'),
    "good": ("hours.yml", "", ""),
}


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory) -> Site:
    """The site of :data:`EDITS` (plus a branch without hours.yml), parsed and merged once."""
    site = tmp_path_factory.mktemp("hours") / "site"
    branches = [*EDITS, "missing"]
    hosts = "".join(f"        pc-{b}:\n          ansible_host: 192.0.2.{i + 1}\n"
                    for i, b in enumerate(branches))
    groups = "".join(f"    branch_{b}:\n      hosts:\n        pc-{b}:\n" for b in branches)
    head = "---\nall:\n  children:\n    public_pcs:\n      hosts:\n"
    write(site / "hosts.yml", head + hosts + groups)
    # A site-wide default that only branch_sitewide (which lacks its own) inherits.
    write(site / "group_vars/all/hours.yml", "---\nbranch__wake_lead_minutes: 300\n")
    for branch, (file, old, new) in EDITS.items():
        texts = {"hours.yml": GOOD_HOURS, "branch.yml": GOOD_BRANCH}
        assert old in texts[file]
        texts[file] = texts[file].replace(old, new, 1)
        for name, text in texts.items():
            write(site / f"group_vars/branch_{branch}/{name}", "---\n" + text)
    write(site / "group_vars/branch_missing/branch.yml", "---\n" + GOOD_BRANCH)
    files, problems = parse_site(site)
    assert problems == []
    return Site(files, load_site(site))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def problems(bad_site) -> list[Problem]:
    return check_hours(bad_site)


def of(problems, branch: str) -> list[tuple[str, str, str, str]]:
    """(file relative to the site, key, problem, allowed) of the problems naming ``branch``."""
    found = []
    for p in problems:
        file = Path(p.file)
        if f"branch_{branch}" in file.parts or p.problem.startswith(f"branch_{branch}: "):
            found.append(("/".join(file.parts[-3:]), p.key, p.problem, p.allowed))
    return found


@pytest.mark.parametrize(("branch", "key", "text", "allowed"), [
    ("closebeforeopen", "branch__hours.wednesday[0]", "closes before it opens",
     "closing after opening on the same day"),
    ("overlap", "branch__hours.friday", "two intervals overlap or touch",
     "intervals separated by closed time"),
    ("notadate", "branch__closures[0].date", "not a date", '"YYYY-MM-DD", quoted'),
    ("unquoted", "branch__hours.thursday[0]", "a time is unquoted", '["HH:MM", "HH:MM"]'),
    ("leadrange", "branch__wake_lead_minutes", "less than or equal to 240",
     "whole minutes, 5-240"),
    ("gracerange", "branch__shutdown_grace_minutes", "less than or equal to 720",
     "whole minutes, 0-720"),
    ("graceshort", "branch__shutdown_grace_minutes", "shorter than the patch window needs",
     "at least branch__patch_delay_minutes + branch__patch_window_minutes + "
     "branch__shutdown_warning_minutes"),
    ("shortnight", "branch__hours", "between friday's last closing and saturday's first opening",
     "than branch__shutdown_grace_minutes + branch__wake_lead_minutes"),
    ("neveropen", "branch__patch_window_start", "missing: the branch never opens",
     'a quoted local time "HH:MM" at which the daily patch window starts'),
    ("alwaysopen", "branch__patch_window_start", "the branch is open around the clock",
     'a quoted local time "HH:MM" at which the daily patch window starts'),
    ("overlapwindow", "branch__patch_window_start",
     "the declared patch window (19:00 for 90 minutes) overlaps the opening hours of monday",
     "window falls outside every day's opening hours"),
])
def test_a_bad_value_is_named_by_the_branchs_hours_file_and_key(problems, branch, key, text,
                                                                 allowed):
    ((file, found_key, problem, found_allowed),) = of(problems, branch)
    assert file == f"group_vars/branch_{branch}/hours.yml"
    assert found_key == key
    assert text in problem
    assert allowed in found_allowed


def test_the_time_zone_is_left_to_the_branch_checker(bad_site, problems):
    # One owner per check: check_branches reports a bad or missing branch__timezone,
    # once, in branch.yml; the hours checker adds nothing about it.
    assert of(problems, "badzone") == []
    assert of(problems, "nozone") == []
    branch_problems = [p for p in check_branches(bad_site)
                       if p.key == "branch__timezone"]
    assert of(branch_problems, "badzone") == [
        ("group_vars/branch_badzone/branch.yml", "branch__timezone", "not an IANA time zone",
         "an IANA Area/Location name, e.g. America/New_York, or UTC")]
    assert of(branch_problems, "nozone") == [
        ("group_vars/branch_nozone/branch.yml", "branch__timezone", "missing",
         "an IANA Area/Location name, e.g. America/New_York, or UTC")]


def test_a_misspelt_weekday_is_an_unknown_key_and_leaves_one_missing(problems):
    (typo, missing) = sorted(of(problems, "typo"), key=lambda p: p[1], reverse=True)
    assert typo[:3] == ("group_vars/branch_typo/hours.yml", "branch__hours.wendesday",
                        "unknown key")
    assert typo[3].startswith("monday, tuesday, wednesday")
    assert missing[1:3] == ("branch__hours.wednesday", "missing")


def test_a_key_defined_outside_the_branch_names_the_branch_in_the_problem(problems):
    ((file, key, problem, _),) = of(problems, "sitewide")
    assert (file, key) == ("group_vars/all/hours.yml", "branch__wake_lead_minutes")
    assert problem.startswith("branch_sitewide: input should be less than or equal to 240")


def test_missing_keys_point_at_the_branchs_hours_yml(problems):
    found = [p for p in of(problems, "missing") if p[2] == "missing"]
    assert {file for file, _, _, _ in found} == {"group_vars/branch_missing/hours.yml"}
    # branch__wake_lead_minutes is not missing: group_vars/all defines it (out of range there).
    assert {key for _, key, _, _ in found} == {
        "branch__hours", "branch__patch_delay_minutes", "branch__patch_window_minutes",
        "branch__shutdown_warning_minutes", "branch__shutdown_grace_minutes"}
    assert of(problems, "good") == []


def test_validate_prints_an_hours_problem_once_with_file_key_and_allowed(bad_site, monkeypatch):
    monkeypatch.setattr(validation, "CHECKS", [*validation.CHECKS, check_hours])
    lines = [str(p) for p in validation.validate_site(bad_site.files.path)]
    for branch in ("badzone", "nozone"):  # the branch checker's problem and ours are one line
        (zone,) = [line for line in lines
                   if f"/branch_{branch}/" in line and ": branch__timezone: " in line]
        assert f"/branch_{branch}/branch.yml: " in zone
    site = bad_site.files.path
    assert (f"{site}/group_vars/branch_graceshort/hours.yml: branch__shutdown_grace_minutes: "
            "shorter than the patch window needs (allowed: at least branch__patch_delay_minutes"
            " + branch__patch_window_minutes + branch__shutdown_warning_minutes)") in lines


@pytest.fixture
def calendar(bad_site, monkeypatch):
    """``check_calendar`` of the bad site as of an instant (``LIBRARYOPS_NOW``)."""
    def _at(instant):
        monkeypatch.setenv(clock.NOW_ENV, instant)
        return check_calendar(bad_site)
    return _at


def test_an_opening_inside_a_dst_gap_is_refused(calendar):
    problems = [p for p in calendar("2026-12-07T12:00Z") if "branch_dstgap" in p.file]
    errors = [p for p in problems if not p.warning]
    assert {(p.key, p.allowed) for p in errors} == {
        ("branch__hours.sunday[0]", "a time outside the hour the clocks skip on that day")}
    assert {p.problem.split(" (")[0] for p in errors} == {
        f"opens at 02:30, which does not exist on {day}" for day in
        ("2026-03-08", "2027-03-14", "2028-03-12")}
    assert all(p.file.endswith("group_vars/branch_dstgap/hours.yml") for p in problems)


def test_a_closing_in_the_repeated_hour_is_a_warning_naming_the_instant_systemd_uses(calendar):
    problems = [p for p in calendar("2026-12-07T12:00Z") if "branch_dstrepeat" in p.file]
    assert problems and all(p.warning for p in problems)
    (autumn,) = [p for p in problems if "2027-11-07" in p.problem and "opens at" in p.problem]
    assert autumn.key == "branch__hours.sunday[0]"
    assert "happens twice on 2027-11-07" in autumn.problem
    assert "systemd uses the first, 01:30 EDT (05:30 UTC)" in autumn.problem
    # Its wake (01:00) and shutdown exist on both DST Sundays: no event is said to be skipped.
    assert not [p for p in problems if "falls into the hour the clocks skip" in p.problem]


def test_closures_running_out_within_four_months_are_a_warning(calendar):
    assert not [p for p in calendar("2027-08-01T12:00Z") if "branch_good/" in p.file]
    (notice,) = [p for p in calendar("2027-09-01T12:00Z") if "branch_good/" in p.file]
    assert notice.warning and notice.key == "branch__closures"
    assert "the closure dates end on 2027-12-24, less than 4 months ahead" in notice.problem
    assert str(notice).startswith(notice.file + ": branch__closures: warning: ")


@pytest.mark.parametrize("site", ["lab", "example"])
def test_the_shipped_sites_hours_are_valid(site):
    site_dir = paths.INVENTORIES / site
    files, problems = parse_site(site_dir)
    assert problems == []
    inventory = load_site(site_dir)
    assert check_hours(Site(files, inventory)) == []
    branches = [g for g in inventory.groups if g.startswith("branch_")]
    assert branches and all("branch__hours" in inventory.hosts[inventory.groups[g][0]]
                            for g in branches)
