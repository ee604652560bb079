"""Catch-up and the host-state model without hosts: what a run's reports say of each host, what
a host's records say it runs, when the runner's timer fires (asked of systemd-analyze), when a
host gets a change, and which commit is urgent (real git commits in a throwaway repository)."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from libraryops import catchup, cron, hoststate, paths, pipeline, revision, timer_probe
from libraryops.hoststate import HostState, State
from libraryops.hours import BranchHours
from libraryops.hours_table import branch_hours
from libraryops.inventory import load_site
from libraryops.timers import sweep_windows

LAB = load_site(paths.site_dir("lab"))
EXAMPLE = load_site(paths.site_dir("example"))
HOURS = BranchHours.from_vars(LAB.hosts["main-pub-01"])
NY = HOURS.zone
#: Monday 2027-03-01: open 09:00-20:00 (wake 08:30, shutdown 22:00) in the lab's hours.
OPEN = dt.datetime(2027, 3, 1, 12, tzinfo=NY)
EVENING = dt.datetime(2027, 3, 1, 20, 30, tzinfo=NY)  # closed, the PCs still on
NIGHT = dt.datetime(2027, 3, 2, 3, 0, tzinfo=NY)  # closed, the PCs off


@pytest.mark.parametrize(("at", "state"), [(NIGHT, State.OFF_AS_SCHEDULED),
                                           (EVENING, State.UNREACHABLE),
                                           (OPEN, State.UNREACHABLE)])
def test_an_unreached_public_pc_is_off_as_scheduled_only_when_its_schedule_says_so(at, state):
    found = hoststate.not_reached(LAB, "main-pub-01", at, "ssh: connect to host: timed out")
    assert found.state is state
    if state is State.OFF_AS_SCHEDULED:
        assert found.detail == "public PCs off until Tue 08:30"
    else:
        assert found.detail == "ssh: connect to host: timed out"
    # A staff machine is always on: not reaching it is never "as scheduled".
    assert hoststate.not_reached(LAB, "main-staff-01", NIGHT, "x").state is State.UNREACHABLE


def test_open_branches_defer_public_pcs_only():
    assert hoststate.open_branch(LAB, "main-pub-01", OPEN) == "Main Library open until Mon 20:00"
    assert hoststate.open_branch(LAB, "main-pub-01", EVENING) is None
    assert hoststate.open_branch(LAB, "main-staff-01", OPEN) is None


def test_the_reports_give_each_host_its_state(tmp_path):
    (tmp_path / "ansible-site.json").write_text(json.dumps({
        "main-ap-01": {"changed": 0, "failures": 0, "unreachable": 0},
        "main-staff-01": {"changed": 1, "failures": 1, "unreachable": 0,
                          "failed_task": "sshd : Check the drop-in", "failed_msg": "bad key"},
        "main-pub-02": {"changed": 0, "failures": 0, "unreachable": 1,
                        "unreachable_msg": "ssh: connect to host 10.123.0.12 port 22"},
        "main-pub-01": {"changed": 0, "failures": 0, "unreachable": 0}}))
    (tmp_path / "pyinfra-public_pc.json").write_text(json.dumps({"plan": [], "results": {
        "operations": [{"name": "Kiosk session", "success": [], "no_change": [],
                        "error": ["main-pub-01"]}],
        "failed_hosts": ["main-pub-01"]}}))
    states = hoststate.from_reports(LAB, sorted(LAB.hosts), tmp_path, EVENING)
    assert states == {
        "main-ap-01": HostState("main-ap-01", State.CONVERGED),
        "main-staff-01": HostState("main-staff-01", State.FAILED,
                                   "ansible: sshd : Check the drop-in: bad key"),
        "main-pub-02": HostState("main-pub-02", State.UNREACHABLE,
                                 "ssh: connect to host 10.123.0.12 port 22"),
        "main-pub-01": HostState("main-pub-01", State.FAILED, "pyinfra: Kiosk session")}
    assert states["main-pub-02"].line() == (
        "main-pub-02: unreachable (ssh: connect to host 10.123.0.12 port 22)")


def test_a_pc_pyinfra_could_not_connect_to_is_not_reached(tmp_path):
    (tmp_path / "pyinfra-public_pc.json").write_text(json.dumps({"plan": [], "results": {
        "operations": [{"name": "x", "success": [], "no_change": ["main-pub-01"], "error": []}],
        "failed_hosts": ["main-pub-02"]}}))
    states = hoststate.from_reports(LAB, ["main-pub-01", "main-pub-02"], tmp_path, NIGHT)
    assert states["main-pub-01"].state is State.CONVERGED
    assert states["main-pub-02"].state is State.OFF_AS_SCHEDULED


@pytest.mark.parametrize(("states", "status"), [
    ([State.CONVERGED], 0),
    ([State.CONVERGED, State.OFF_AS_SCHEDULED, State.DEFERRED], pipeline.PENDING),
    ([State.DEFERRED, State.UNREACHABLE], 1),
    ([State.FAILED], 1),
])
def test_only_hosts_that_need_a_person_fail_the_run(states, status, capsys):
    class Run:
        secrets = {"sekrit-value"}
        commit = "a" * 40
        tags = ()

    found = {f"h{i}": HostState(f"h{i}", s, "sekrit-value here") for i, s in enumerate(states)}
    assert pipeline.report_states(Run(), found) == status
    err = capsys.readouterr().err
    assert "sekrit-value" not in err
    assert err.count("not converged: ") == sum(s is not State.CONVERGED for s in states)


def test_records_say_what_each_engine_converged_from():
    output = ('ansible {"commit": "' + "a" * 40 + '", "since": "2026-12-07T06:00:00Z"}\n'
              'pyinfra {"commit": "' + "b" * 40 + '"}\nbroken {not json\n')
    commits = catchup.parse_records(output)
    assert commits == {"ansible": "a" * 40, "pyinfra": "b" * 40}
    record = catchup.Record(commits)
    assert record.runs(["ansible"]) == "a" * 40
    assert record.runs(["ansible", "pyinfra"]) is None  # the kiosk is behind the baseline
    assert catchup.Record({"ansible": "a" * 40}).runs(["ansible", "pyinfra"]) is None
    assert catchup.engines_of(LAB, "main-pub-01") == ("ansible", "pyinfra")
    assert catchup.engines_of(LAB, "main-ap-01") == ("ansible",)


def test_the_read_command_prints_each_record_on_one_line(tmp_path):
    command = catchup.read_command().replace(catchup.RECORD_DIR, str(tmp_path))
    (tmp_path / "ansible.json").write_text('{"commit": "x",\n "since": "y"}\n')
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert catchup.parse_records(out.stdout) == {"ansible": "x"}


def test_records_are_read_with_the_projects_own_ansible_callbacks(tmp_path):
    """The real ad-hoc read, with ansible.cfg's callbacks (profile_tasks prints its summary
    after the JSON document), over a local connection to this machine."""
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    here:\n      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(paths.REPO / "ansible.cfg")}
    found = catchup.records(load_site(tmp_path), ["here"],
                            str(paths.REPO / ".venv" / "bin" / "ansible"), env)
    assert list(found) == ["here"] and found["here"].reachable, found


def test_the_runner_timer_fires_when_the_branch_is_closed_and_its_pcs_on():
    """Asked of systemd-analyze over the lab's whole sweep: every firing falls when the branch
    is closed and either its PCs are on or the day is a closure (the PCs stay off: off as
    scheduled); every opening day gets one after closing and one after the wake."""
    calendar = catchup.runner_calendar([HOURS])
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    days_with = {"evening": set(), "morning": set()}
    for start, end in sweep_windows(HOURS, now):
        instants = timer_probe.expand(calendar, int(start.timestamp()), int(end.timestamp()))
        for epoch in sorted({i for found in instants.values() for i in found}):
            at = dt.datetime.fromtimestamp(epoch, dt.UTC)
            day = HOURS.local(at).date()
            assert not HOURS.is_open(at), at
            assert HOURS.pcs_on(at) or HOURS.closure_on(day) or not HOURS.hours_on(day), at
            if HOURS.pcs_on(at):
                days_with["morning" if HOURS.local(at).hour < 12 else "evening"].add(day)
        for event in HOURS.events(start, end):
            if event.kind == "wifi_off":
                assert event.day in days_with["evening"], event
            if event.kind == "wake":
                assert event.day in days_with["morning"], event


def test_the_runner_units_pass_systemd_analyze_verify(tmp_path):
    units = catchup.runner_units(paths.site_dir("lab"), [HOURS])
    for name, text in units.items():
        (tmp_path / name).write_text(text.replace("ExecStartPre=-/usr/bin/git",
                                                  "ExecStartPre=-/bin/true"))
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *(str(tmp_path / n) for n in units)],
                          env={**os.environ, "TZ": "UTC"}, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "ExecStart=/usr/bin/make catch-up SITE=lab PENDING_OK=1" in units[
        "libraryops-catch-up.service"]


def test_the_committed_catch_up_schedule_is_the_example_sites():
    text = (cron.WORKFLOWS / "catch-up.yml").read_text()
    branches = list(branch_hours(EXAMPLE).values())
    windows, _, per_branch = cron.SCHEDULES["catch-up"]
    assert cron.workflow_crons(text) == cron.crons(branches, 2026, windows, per_branch)


@pytest.mark.parametrize(("at", "urgent", "text"), [
    (OPEN, None, "at closing: Mon 20:05"),
    (OPEN, "zero-day", "now, after warning the patron (urgent: zero-day)"),
    (EVENING, None, "now"),
    (NIGHT, None, "at its next wake: Tue 08:40"),
])
def test_plan_says_when_a_public_pc_gets_the_change(at, urgent, text):
    assert catchup.when(LAB, "main-pub-01", at, urgent) == text
    assert catchup.when(LAB, "main-staff-01", at, urgent) == "now"


def test_the_plan_summary_lists_when_each_host_gets_it():
    from libraryops.report import HostRow

    rows = {"main-pub-01": HostRow(changes={"ansible": 1}), "main-pub-02": HostRow(
        unreachable=True)}
    text = pipeline.plan_summary("lab", rows, [], {"main-pub-01": "at closing: Mon 20:05",
                                                   "main-pub-02": "at its next wake: Tue 08:40"})
    assert "## When each host gets the change" in text
    assert "- main-pub-01: at closing: Mon 20:05" in text
    assert "- main-pub-02: not planned (unreachable); at its next wake: Tue 08:40" in text


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A throwaway git repository standing in for this one (paths.REPO)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (tmp_path / "f").write_text("1\n")
    git("add", "f")
    git("commit", "-q", "-m", "first")
    monkeypatch.setattr(paths, "REPO", tmp_path)
    monkeypatch.delenv(revision.COMMIT_ENV, raising=False)
    return git


def test_the_commit_is_head_and_dirty_when_tracked_files_differ(repo, tmp_path, monkeypatch):
    head = repo("rev-parse", "HEAD")
    assert revision.current() == head
    (tmp_path / "f").write_text("2\n")
    assert revision.current() == f"{head}-dirty"
    monkeypatch.setenv(revision.COMMIT_ENV, head[:12])
    assert revision.current() == head
    # What a run from a dirty tree hands on to its engines and checks (make lab, make verify).
    monkeypatch.setenv(revision.COMMIT_ENV, f"{head}-dirty")
    assert revision.current() == f"{head}-dirty"
    monkeypatch.setenv(revision.COMMIT_ENV, "0" * 40)
    with pytest.raises(revision.RevisionError, match="no such commit"):
        revision.current()


def test_an_urgent_trailer_anywhere_between_the_hosts_commit_and_main(repo):
    first = repo("rev-parse", "HEAD")
    repo("commit", "-q", "--allow-empty", "-m", "fix", "--trailer", "Urgent: browser zero-day")
    urgent = repo("rev-parse", "HEAD")
    repo("commit", "-q", "--allow-empty", "-m", "later, ordinary")
    head = repo("rev-parse", "HEAD")
    assert revision.urgent_reason(urgent) == "browser zero-day"
    assert revision.urgent_reason(head) is None  # only the commit itself when no base
    assert revision.urgent_reason(head, since=first) == "browser zero-day"
    assert revision.urgent_reason(head, since=urgent) is None
