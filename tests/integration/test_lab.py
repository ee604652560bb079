"""The lab end to end: `make lab` converges the lab site and a second run changes nothing.

The zero-changes check reads the engines' own change counts (Ansible's recap through the
libraryops_stats callback, pyinfra's operation results), not our own bookkeeping.
"""

import subprocess

import pytest

from libraryops import paths
from libraryops.inventory import load_site
from libraryops.report import summarize

LAB = load_site(paths.site_dir("lab"))
REPORTS = paths.REPORTS / "lab"


def _make_lab(*args):
    return subprocess.run(["make", "lab", *args], cwd=paths.REPO, check=False).returncode


@pytest.fixture(scope="module")
def first_run():
    return _make_lab(), summarize(REPORTS)


def test_first_lab_run_converges_every_host_and_all_checks_pass(first_run):
    returncode, rows = first_run
    assert returncode == 0
    assert set(rows) == set(LAB.hosts)
    for host, row in rows.items():
        assert row.engine_failures == 0, host
        assert row.failed == 0, host
        assert row.passed > 0, host
        assert "ansible" in row.changes, host
    for host in LAB.groups["public_pcs"]:
        assert "pyinfra" in rows[host].changes, host


def test_second_lab_run_reports_zero_changes_from_both_engines(first_run):
    assert _make_lab("EXPECT_NO_CHANGES=1") == 0
    rows = summarize(REPORTS)
    assert {h: r.changes["ansible"] for h, r in rows.items()} == dict.fromkeys(LAB.hosts, 0)
    assert {h: rows[h].changes["pyinfra"] for h in LAB.groups["public_pcs"]} == dict.fromkeys(
        LAB.groups["public_pcs"], 0
    )
    assert all(r.failed == 0 and r.passed > 0 for r in rows.values())
