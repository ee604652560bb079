"""Run reports: engine results and testinfra results become per-host rows, plan summaries and
the verification HTML. Inputs are written here in the engines' own formats."""

import json
from pathlib import Path

from libraryops import paths, pipeline, report
from libraryops.inventory import load_site

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.testinfra.test_sshd" name="test_sshd_settings[ansible://main-pub-01]">
  <properties><property name="testinfra_host" value="main-pub-01"/></properties></testcase>
<testcase classname="tests.testinfra.test_public_pc"
          name="test_tools_in_menu[ansible://main-pub-01-orca]">
  <properties><property name="testinfra_host" value="main-pub-01"/></properties>
  <failure message="AssertionError: no menu entry orca.desktop">trace</failure></testcase>
<testcase classname="tests.testinfra.test_sshd" name="test_sshd_settings[ansible://main-ap-01]">
  <properties><property name="testinfra_host" value="main-ap-01"/></properties></testcase>
</testsuite></testsuites>
"""


def _write(directory: Path, name: str, data) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    (directory / name).write_text(text)


def _pyinfra_op(success=(), no_change=(), error=()):
    return {"success": list(success), "no_change": list(no_change), "error": list(error)}


def test_a_run_counts_changes_failures_and_checks_per_host(tmp_path):
    _write(tmp_path, "ansible-site.json", {
        "main-pub-01": {"changed": 2, "failures": 0, "unreachable": 0},
        "main-ap-01": {"changed": 0, "failures": 1, "unreachable": 0},
        "main-staff-01": {"changed": 0, "failures": 0, "unreachable": 1}})
    _write(tmp_path, "pyinfra-public_pc.json", {"plan": [], "results": {
        "operations": [_pyinfra_op(success=["main-pub-01"]),
                       _pyinfra_op(no_change=["main-pub-01"])],
        "failed_hosts": []}})
    _write(tmp_path, "testinfra.xml", JUNIT)
    rows = report.summarize(tmp_path)
    assert rows["main-pub-01"].changes == {"ansible": 2, "pyinfra": 1}
    assert (rows["main-pub-01"].passed, rows["main-pub-01"].failed) == (1, 1)
    assert rows["main-ap-01"].engine_failures == 1
    assert rows["main-staff-01"].unreachable
    found = report.problems(rows, expect_no_changes=True)
    assert found == ["unreachable: main-staff-01",
                     "checks or engine runs failed on: main-ap-01, main-pub-01",
                     "expected zero changes, the engines reported 3"]
    assert "UNREACHABLE" in report.format_table(rows)


def test_a_dry_run_counts_what_would_change_and_what_might(tmp_path):
    _write(tmp_path, "pyinfra-public_pc.json", {"results": None, "plan": [
        {"hosts_with_change": ["main-pub-01"], "hosts_with_conditional_change": []},
        {"hosts_with_change": [], "hosts_with_conditional_change": ["main-pub-01", "main-pub-02"]},
    ]})
    rows = report.summarize(tmp_path)
    assert rows["main-pub-01"].changes == {"pyinfra": 1}
    assert rows["main-pub-02"].conditional == {"pyinfra": 1}
    assert "1 (+1 if so)" in report.format_table(rows, verb="would change")


def test_the_plan_summary_lists_unreachable_hosts_and_azure_changes():
    rows = {"main-pub-01": report.HostRow(changes={"ansible": 0}),
            "main-pub-02": report.HostRow(unreachable=True)}
    text = pipeline.plan_summary("lab", rows, [
        {"action": "no-change", "type": "virtual network", "resource": "rg/vnet"},
        {"action": "update", "type": "virtual machine", "resource": "rg/vm-libki"}])
    assert "**Unreachable, not planned:** main-pub-02" in text
    assert "- **update** virtual machine `rg/vm-libki`" in text
    assert "vnet" not in text


def test_the_verification_page_has_a_section_per_branch_and_highlights_drift(tmp_path):
    _write(tmp_path, "testinfra.xml", JUNIT)
    page = report.verify_html("lab", load_site(paths.site_dir("lab")), tmp_path / "testinfra.xml")
    assert 'id="branch-branch_main"' in page
    assert "Main Library (branch_main)" in page
    assert "DRIFT" in page and "no menu entry orca.desktop" in page
    assert "Tools in menu (orca)" in page
    assert '<details class="host" id="host-main-pub-01" open>' in page
    assert '<details class="host" id="host-main-ap-01">' in page


UNREACHED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.testinfra.test_sshd" name="test_sshd_settings[ansible://main-pub-01]">
  <properties><property name="testinfra_host" value="main-pub-01"/></properties></testcase>
<testcase classname="tests.testinfra.test_sshd" name="test_sshd_settings[ansible://main-pub-02]">
  <properties><property name="testinfra_host" value="main-pub-02"/></properties>
  <failure message="AssertionError: Unexpected exit code 255 for CommandResult(command=b'sshd -T',
 exit_status=255, stdout=b'', stderr=b'ssh: connect to host 10.123.0.12 port 22: No route to
 host')">trace</failure></testcase>
<testcase classname="tests.testinfra.test_power" name="test_timers[ansible://main-pub-02]">
  <properties><property name="testinfra_host" value="main-pub-02"/></properties>
  <error message="failed on setup with &quot;AssertionError: Unexpected exit code 255 for
 CommandResult(...)&quot;">trace</error></testcase>
</testsuite></testsuites>
"""


def test_a_host_nothing_could_connect_to_is_not_reached_not_drifted(tmp_path):
    _write(tmp_path, "testinfra.xml", UNREACHED)
    page = report.verify_html("lab", load_site(paths.site_dir("lab")), tmp_path / "testinfra.xml")
    assert "NOT REACHED</span>: 1 computer could not be connected to" in page
    assert "not reached: main-pub-02" in page
    assert "NO DRIFT</span>: every computer reached matches" in page
    assert "ALL GOOD" not in page and "drift on" not in page
