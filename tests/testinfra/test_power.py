"""Public PCs' power schedule (deploy/power.py), checked by systemd on each host.

The schedule checks do not use the deploy's rendering: the schedule verifier
(:class:`libraryops.timers.HostTimers`) reads each wake, warning and shutdown timer back from
the host's systemd, expands its calendar with the host's own ``systemd-analyze calendar`` and
runs the service's real ``ExecCondition=`` as of each instant (libfaketime), over the sweep of
the calendar (:func:`libraryops.timers.sweep_windows`: the weeks around now, every closure date,
DST change and year boundary); the result must be :meth:`libraryops.hours.BranchHours.events`
from the inventory. The lab runs in "log, don't act" mode (``public_pc__power_actions: log``):
the tests that start the shutdown and warning services, as of an instant the plan picks, are
lab only.
"""

import datetime as dt
import fcntl
import json
import re
import shlex
import tempfile
import time
from pathlib import Path

import pytest

from libraryops.timers import acted, expected

testinfra_hosts = ["ansible://public_pcs"]

UTC = dt.UTC
SCRIPT = "/usr/local/sbin/libraryops-power"
#: The hours model's events this deploy's timers fire.
EVENTS = ("wake", "warn", "shutdown")
_NEXT_WAKE = re.compile(r"the next wake, .* \(@(\d+)\)")


@pytest.fixture(scope="module")
def plan(hours):
    """The hours model's timers for the three public-PC events: {timer unit: plan entry}."""
    return {f"{t['unit']}.timer": t for t in hours.timer_plan()["timers"] if t["event"] in EVENTS}


@pytest.fixture(scope="module")
def reports(plan, timers, sweep):
    """The schedule verifier's reports of the power timers over the sweep."""
    return timers.reports(plan, sweep)


def _host_timers(host):
    """The power timers installed on the host (unit names)."""
    out = host.check_output("systemctl list-unit-files --no-legend --plain 'libraryops-*.timer'")
    units = [line.split()[0] for line in out.splitlines() if line.strip()]
    return {u for u in units if u.startswith(("libraryops-wake", "libraryops-shutdown"))}


@pytest.fixture
def power_journal(host):
    """Hold the host's power-journal lock (a file lock on the controller) for the test: the
    tests that count libraryops-power's journal lines after a cursor must not run at once on
    one host (under xdist, one test's wake step would be counted in another's shutdown lines).
    A lock, not an ``xdist_group``: ``--dist loadgroup`` groups nothing under pytest 9.2
    (pytest-dev/pytest-xdist#1386)."""
    name = host.backend.get_hostname()
    path = Path(tempfile.gettempdir()) / f"libraryops-power-journal-{name}.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _journal_cursor(host):
    out = host.check_output("journalctl -n 0 --show-cursor --no-pager")
    return out.splitlines()[-1].removeprefix("-- cursor: ")


def _power_log(host, cursor, want, timeout=10.0):
    """The libraryops-power journal messages after ``cursor``, once ``want(lines)`` holds (or
    the timeout passed: journald may lag behind logger). Filtered here, not with ``-t``:
    journalctl 252 combines a match with ``--after-cursor`` wrongly (it returned nothing)."""
    deadline = time.monotonic() + timeout
    while True:
        out = host.check_output(
            f"journalctl -o json --no-pager --after-cursor={shlex.quote(cursor)}")
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        lines = [e["MESSAGE"] for e in entries
                 if e.get("SYSLOG_IDENTIFIER") == "libraryops-power"
                 and isinstance(e.get("MESSAGE"), str)]
        if want(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.3)


def _firing(reports, plan, event, now, verdict):
    """The first firing of an ``event`` timer at or after ``now`` (else the last before it)
    whose verdict is ``verdict``: (service, instant), or None."""
    found = sorted((at, reports[unit].service) for unit, t in plan.items() if t["event"] == event
                   for at, v in reports[unit].firings if v == verdict)
    later = [f for f in found if f[0] >= now]
    pick = later[0] if later else found[-1] if found else None
    return (pick[1], pick[0]) if pick else None


def test_the_power_timers_are_the_plans_enabled_active_and_not_persistent(
        host, hours, plan, reports):
    assert _host_timers(host) == set(plan)
    for unit, timer in plan.items():
        assert host.check_output(f"systemctl is-enabled {unit}") == "enabled"
        assert host.check_output(f"systemctl is-active {unit}") == "active"
        assert host.check_output(f"systemctl show -P Persistent {unit}") == "no"
        # systemd parsed the rendered ExecCondition= into exactly the plan's command.
        offset = timer["day_offset"]
        assert reports[unit].exec_condition == (
            (tuple(hours.exec_condition_argv(offset)),) if timer["exec_condition"] else ())


def test_systemd_acts_exactly_on_the_modules_events_over_the_whole_sweep(
        hours, plan, reports, sweep):
    assert not [(u, r.failures()) for u, r in reports.items() if r.failures()]
    assert all(r.conditions == "ok" for r in reports.values())
    event_of = {unit: t["event"] for unit, t in plan.items()}
    assert acted(reports, event_of) == expected(hours, sweep, EVENTS)
    # The closure dates were really skipped by the conditions (the sweep covers them all).
    if any(not c.hours for c in hours.branch__closures):
        assert any(v == "skipped" for r in reports.values() for _, v in r.firings)


def test_the_next_wake_skips_closed_days_as_the_module_does(host, hours, sweep):
    """From the start of every stretch of the sweep and from every shutdown in it (when a PC
    sets its next wake), the script's answer (one SSH command for all) is the model's."""
    bases = [start for start, _ in sweep] + [
        e.at for start, end in sweep for e in hours.events(start, end) if e.kind == "shutdown"]
    epochs = " ".join(str(int(b.timestamp())) for b in bases)
    out = host.check_output(
        f'for b in {epochs}; do echo "$b $({SCRIPT} next-wake "$b" | cut -d" " -f1)"; done')
    answers = dict(line.split() for line in out.splitlines())
    for base in bases:
        wake = next(e.at for e in hours.events(base + dt.timedelta(seconds=1),
                                               base + dt.timedelta(days=60)) if e.kind == "wake")
        assert int(answers[str(int(base.timestamp()))]) == int(wake.timestamp()), (base, wake)


def test_lab_only_the_wake_step_without_an_rtc_says_so_and_succeeds(
        host, lab_only, power_journal):
    if host.file("/dev/rtc0").exists:
        pytest.skip("this host has an RTC: the wake step sets the alarm")
    cursor = _journal_cursor(host)
    host.run_expect([0], f"{SCRIPT} set-wake")
    lines = _power_log(host, cursor, lambda lines: any("no RTC" in x for x in lines))
    assert [x for x in lines if x.startswith("no RTC (/dev/rtc0 missing): the next wake, ")]


def _next_wake_logged(lines):
    return [int(m[1]) for x in lines if (m := _NEXT_WAKE.search(x))]


def test_lab_only_the_shutdown_service_acts_when_the_plan_says_and_only_then(
        host, hours, public_pc_vars, plan, reports, timers, now, lab_only, power_journal):
    """As of the next shutdown the plan has (the clock of that instant, given to the real
    service), the service logs the poweroff it would make in log mode and the next wake the
    hours model has; as of a shutdown firing on a closure date it does nothing."""
    if public_pc_vars["public_pc__power_actions"] != "log":
        pytest.skip("power actions are not in log mode here: the shutdown would be real")
    service, at = _firing(reports, plan, "shutdown", now, "acts")
    cursor = _journal_cursor(host)
    assert timers.start_as_of(service, at) == (True, "success")
    lines = _power_log(host, cursor, lambda lines: any("would power off" in x for x in lines))
    assert lines.count("log mode: would power off now (systemctl poweroff)") == 1
    wake = next(e.at for e in hours.events(at, at + dt.timedelta(days=60)) if e.kind == "wake")
    assert _next_wake_logged(lines) == [int(wake.timestamp())]
    time.sleep(1)
    assert host.check_output("systemctl is-system-running || true") in ("running", "degraded")
    assert "poweroff" not in host.check_output("systemctl list-jobs --no-legend")
    skipped = _firing(reports, plan, "shutdown", now, "skipped")
    if skipped is None:
        pytest.skip("the branch has no closure date: no shutdown firing to skip")
    cursor = _journal_cursor(host)
    assert timers.start_as_of(*skipped) == (False, "exec-condition")
    assert not _power_log(host, cursor, bool, timeout=1.5)


def test_lab_only_the_warning_reaches_the_patron_and_the_journal(
        host, public_pc_vars, plan, reports, timers, now, lab_only, power_journal):
    if public_pc_vars["public_pc__power_actions"] != "log":
        pytest.skip("not in log mode: a real patron would see a test warning")
    patron = public_pc_vars["public_pc__patron_user"]
    service, at = _firing(reports, plan, "warn", now, "acts")
    cursor = _journal_cursor(host)
    try:
        assert timers.start_as_of(service, at)[0]
        lines = _power_log(host, cursor, lambda lines: any("shutdown warning" in x
                                                           for x in lines))
        warned = [x for x in lines if x.startswith(f"shutdown warning on {patron}'s session ")]
        assert len(warned) == 1
        assert host.process.filter(comm="xmessage")
    finally:
        host.run(f"systemctl stop {service}")
