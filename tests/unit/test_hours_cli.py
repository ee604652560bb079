"""``make hours`` (the table) for both shipped sites, and the Ansible filter plugin over the model.

The filter plugin is checked twice: imported by name (the project is installed in the venv), and
through a real ``ansible`` ad-hoc ``debug`` task (local connection, nothing contacted) started
outside the repository without PYTHONPATH, so the installed package is what makes ``libraryops``
importable there.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from libraryops import clock, hours, hours_table, paths
from libraryops.inventory import SiteInventory, load_site

LAB = paths.INVENTORIES / "lab"
EXAMPLE = paths.INVENTORIES / "example"
PLUGIN = paths.REPO / "plugins" / "filter" / "hours.py"


def table(site: Path, now: str, capsys) -> list[str]:
    assert hours_table.main(["table", "--site-dir", str(site), "--now", now]) == 0
    return capsys.readouterr().out.splitlines()


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("  ") if cell.strip()]


def test_lab_table_on_christmas_eve(capsys):
    lines = table(LAB, "2027-12-24T16:30Z", capsys)
    assert lines[0] == ("Lab Library: hours at Fri 24 Dec 2027 16:30 UTC; next events in each "
                        "branch's local time")
    assert cells(lines[2]) == ["branch", "local time", "today's hours", "now", "wake", "shutdown",
                               "patch window", "Wi-Fi off", "Wi-Fi on"]
    assert cells(lines[4]) == [
        "branch_main", "Fri 11:30 EST", "09:00-13:00; Christmas Eve (early closing)",
        "open until Fri 13:00", "Mon 08:30", "Fri 15:00", "Fri 13:15-14:45", "Fri 13:00",
        "Mon 09:00"]
    assert len(lines) == 5


def test_example_table_shows_both_branches(capsys):
    lines = table(EXAMPLE, "2027-10-15T22:00-04:00", capsys)
    assert lines[0].startswith("Riverton Public Library: hours at Sat 16 Oct 2027 02:00 UTC")
    rows = {cells(line)[0]: cells(line) for line in lines[4:]}
    assert set(rows) == {"branch_east", "branch_main"}
    assert rows["branch_east"][2:4] == ["10:00-13:00, 14:00-18:00", "closed until Sat 10:00"]
    assert rows["branch_main"][2:] == [
        "09:00-24:00; Library Late Night (open until midnight)", "open until Sat 00:00",
        "Sat 08:15", "Sat 03:00", "Sat 00:30-02:30", "Sat 00:00", "Sat 09:00"]


def test_a_branch_with_invalid_hours_says_so_in_its_row():
    site = SiteInventory(Path("/nonexistent/x"), {"pc": {"branch__timezone": "UTC"}},
                         {"branch_x": ["pc"]})
    text = hours_table.format_table(site, clock.aware_instant("2027-01-01T12:00Z"))
    assert cells(text.splitlines()[4])[:3] == ["branch_x", "-", "invalid hours: run make validate"]


def test_the_table_needs_an_aware_now(capsys, monkeypatch):
    assert hours_table.main(["table", "--site-dir", str(LAB), "--now", "2027-01-01T12:00"]) == 1
    assert "give an offset" in capsys.readouterr().err
    monkeypatch.setenv(clock.NOW_ENV, "2027-01-01T12:00")
    assert hours_table.main(["table", "--site-dir", str(LAB)]) == 1
    assert "LIBRARYOPS_NOW='2027-01-01T12:00': give an offset" in capsys.readouterr().err


def test_an_unreadable_site_exits_1(tmp_path, capsys):
    assert hours_table.main(["table", "--site-dir", str(tmp_path / "nosite")]) == 1
    assert capsys.readouterr().err.startswith("hours: ")


# --- the filter plugin -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin():
    return importlib.import_module("plugins.filter.hours")


@pytest.fixture(scope="module")
def lab_vars() -> dict:
    return load_site(LAB).hosts["main-pub-01"]


def test_the_plugin_returns_the_modules_plain_data(plugin, lab_vars):
    filters = plugin.FilterModule().filters()
    assert set(filters) == {"branch_timers", "branch_closures_file", "branch_patch_calendar",
                            "branch_state_plan"}
    model = hours.BranchHours.from_vars(lab_vars)
    assert filters["branch_timers"](lab_vars) == model.timer_plan()["timers"]
    assert filters["branch_timers"](lab_vars, "/x/closures") == model.timer_plan(
        "/x/closures")["timers"]
    assert filters["branch_closures_file"](lab_vars) == model.closures_file()
    assert filters["branch_patch_calendar"](lab_vars, 20) == model.patch_calendar(20)


def test_the_plugin_turns_invalid_hours_into_a_filter_error(plugin, lab_vars):
    with pytest.raises(AnsibleFilterError, match="branch__wake_lead_minutes.*run make validate"):
        plugin.branch_timers({**lab_vars, "branch__wake_lead_minutes": 0})


def test_the_plugin_turns_minutes_outside_the_window_into_a_filter_error(plugin, lab_vars):
    with pytest.raises(AnsibleFilterError, match="branch_patch_calendar: .*outside the patch"):
        plugin.branch_patch_calendar(lab_vars, lab_vars["branch__patch_window_minutes"])


def test_ansible_renders_the_timers_and_the_update_schedule_through_the_plugin(tmp_path, lab_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHON"))}
    env.update(ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
               ANSIBLE_FILTER_PLUGINS=str(PLUGIN.parent), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path), ANSIBLE_HOME=str(tmp_path),
               ANSIBLE_VAULT_PASSWORD_FILE=str(LAB / "vault-password.txt"))
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("ansible")), "-i", str(LAB / "hosts.yml"),
         "main-pub-01", "-e", "ansible_connection=local", "-m", "ansible.builtin.debug",
         "-a", "msg={{ [hostvars[inventory_hostname] | branch_timers,"
               " updates__download_on_calendar, updates__upgrade_on_calendar] }}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    timers, download, upgrade = json.loads(proc.stdout.split(" => ", 1)[1])["msg"]
    model = hours.BranchHours.from_vars(lab_vars)
    assert timers == model.timer_plan()["timers"]
    # The lab inventory's update schedule (group_vars/all/updates.yml) is the patch window's.
    assert download == model.patch_calendar()
    assert upgrade == model.patch_calendar(lab_vars["updates__download_randomized_delay_minutes"])


def test_the_table_exits_1_when_a_branchs_hours_do_not_validate(tmp_path, capsys):
    import shutil

    site = tmp_path / "lab"
    shutil.copytree(LAB, site, symlinks=True)
    hours_file = site / "group_vars" / "branch_main" / "hours.yml"
    hours_file.write_text(hours_file.read_text().replace(
        "branch__wake_lead_minutes: 30", "branch__wake_lead_minutes: 0"))
    assert hours_table.main(["table", "--site-dir", str(site), "--now", "2027-03-01T12:00Z"]) == 1
    out, err = capsys.readouterr()
    assert "branch_main  -" in out and "invalid hours: run make validate" in out
    assert err == "hours: branch_main: invalid hours; run make validate\n"


def test_make_hours_warns_when_the_closures_run_out(capsys):
    assert hours_table.main(["table", "--site-dir", str(LAB), "--now", "2027-10-01T12:00Z"]) == 0
    err = capsys.readouterr().err
    assert ("hours: warning: branch_main: branch__closures: the closure dates end on 2028-01-01,"
            " less than 4 months ahead") in err
    assert hours_table.main(["table", "--site-dir", str(LAB), "--now", "2027-08-01T12:00Z"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_suggested_closures_are_next_years_missing_holidays_as_yaml_to_review(capsys):
    import yaml

    assert hours_table.main(["suggest-closures", "--site-dir", str(LAB),
                             "--now", "2026-12-07T12:00Z"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# branch_main (Main Library): public holidays of 2028 in US-NY")
    entries = yaml.safe_load("\n".join(line for line in out.splitlines()
                                       if not line.startswith("#")))
    dates = [e["date"] for e in entries]
    assert "2028-01-01" not in dates  # listed already
    assert {"date": "2028-11-23", "reason": "Thanksgiving Day"} in entries
    assert dates == sorted(dates) and all(d.startswith("2028-") for d in dates)
    # Nothing was written: the suggestion is printed for the manager to edit.
    assert "2028-11-23" not in (LAB / "group_vars/branch_main/hours.yml").read_text()


def test_a_bad_now_is_refused_without_a_traceback(capsys):
    assert hours_table.main(["table", "--site-dir", str(LAB), "--now", "tomorrow"]) == 1
    assert "not an ISO 8601 instant" in capsys.readouterr().err


def test_the_state_plan_names_each_branchs_units_and_closures_file(plugin):
    site = load_site(LAB)
    plan = plugin.branch_state_plan(site.groups, site.hosts, "/etc/libraryops/monitoring")
    model = hours.BranchHours.from_vars(site.hosts[site.groups["branch_main"][0]])
    (main,) = plan
    assert main["slug"] == "main" and main["closures"] == model.closures_file()
    assert main["closures_path"] == "/etc/libraryops/monitoring/closures-main"
    assert main["states"] == ["closed", "wake_lead", "open", "patch"]
    assert [t["unit"] for t in main["timers"]] == [
        t["unit"].replace("libraryops-", "libraryops-state-main-", 1)
        for t in model.state_timers(main["closures_path"])]
    assert {t["branch"] for t in main["timers"]} == {"main"}
