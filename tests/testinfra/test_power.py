"""Public PCs' power schedule (deploy/power.py), checked by systemd on each host.

The schedule check does not use the deploy's rendering: it reads each wake, warning and shutdown
timer back from the host's systemd (``systemctl show -P TimersCalendar``, the ``OnCalendar=``
expressions as loaded), expands them with the host's own ``systemd-analyze calendar
--base-time=... --iterations=...`` (``man systemd.time``), drops the instants of closure-checked
timers whose opening day is listed in the host's closures file (the opening-day shift and the
time zone are read from the service's own ``ExecCondition=``), and compares the result with
:meth:`libraryops.hours.BranchHours.events` from the inventory, for two weeks around the first
closed day at or after today. The lab runs in "log, don't act" mode
(``public_pc__power_actions: log``): the tests that start the shutdown and warning services run
only there; the wake-step test runs only where there is no RTC.
"""

import datetime as dt
import fcntl
import json
import re
import shlex
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

testinfra_hosts = ["ansible://public_pcs"]

UTC = dt.UTC
SCRIPT = "/usr/local/sbin/libraryops-power"
CLOSURES = "/etc/libraryops/closures"
#: Unit-name stem -> event, most specific first (libraryops-shutdown-warning before -shutdown).
STEMS = (("libraryops-shutdown-warning", "warn"), ("libraryops-shutdown", "shutdown"),
         ("libraryops-wake", "wake"))
EVENTS = {event for _, event in STEMS}
_CONDITION = re.compile(r"TZ=(\S+) date( -d (?:tomorrow|yesterday))? \+%F\)\" (\S+)")
_SHIFT = {None: 0, " -d tomorrow": -1, " -d yesterday": 1}


def _event(unit):
    return next((event for stem, event in STEMS if unit.startswith(stem)), None)


@pytest.fixture
def plan(hours):
    """The module's timers for the three public-PC events (the expected unit set)."""
    return {t["unit"]: t for t in hours.timer_plan()["timers"] if t["event"] in EVENTS}


def _host_timers(host):
    """{unit: event} of the power timers installed on the host."""
    out = host.check_output("systemctl list-unit-files --no-legend --plain 'libraryops-*.timer'")
    units = [line.split()[0].removesuffix(".timer") for line in out.splitlines() if line.strip()]
    return {unit: _event(unit) for unit in units if _event(unit)}


def _closures(host):
    return {line for line in host.file(CLOSURES).content_string.splitlines()
            if line and not line.startswith("#")}


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


def _start_and_see_which_ran(host, services):
    """Start each service (oneshot: waits); the ones whose ExecStart ran (ExecCondition passed)."""
    ran = []
    for service in services:
        prop = f"systemctl show -P ExecMainStartTimestampMonotonic {service}"
        before = host.check_output(prop)
        host.run_expect([0], f"systemctl start {service}")
        if host.check_output(prop) != before:
            ran.append(service)
    return ran


def test_the_power_timers_are_the_plans_enabled_active_and_not_persistent(host, plan):
    assert set(_host_timers(host)) == set(plan)
    for unit, timer in plan.items():
        assert host.check_output(f"systemctl is-enabled {unit}.timer") == "enabled"
        assert host.check_output(f"systemctl is-active {unit}.timer") == "active"
        assert host.check_output(f"systemctl show -P Persistent {unit}.timer") == "no"
        conditions = [line.removeprefix("ExecCondition=") for line in
                      host.check_output(f"systemctl cat {unit}.service").splitlines()
                      if line.startswith("ExecCondition=")]
        assert conditions == ([timer["exec_condition"]] if timer["exec_condition"] else [])


def test_systemd_fires_exactly_the_modules_events_for_two_weeks_with_a_closed_day(
        host, hours, window, systemd_instants):
    closed_day, start, end = window
    closures = _closures(host)
    assert closed_day.isoformat() in closures
    fired, dropped = [], 0
    for unit, event in _host_timers(host).items():
        calendars = host.check_output(f"systemctl show -P TimersCalendar {unit}.timer")
        expressions = re.findall(r"\{ OnCalendar=(.*?) ; next_elapse=", calendars)
        condition = host.check_output(f"systemctl show -P ExecCondition {unit}.service")
        checked = _CONDITION.search(condition)
        if condition:
            assert checked and checked[3] == CLOSURES, condition
        for instants in systemd_instants(expressions, start, end).values():
            for at in (i for i in instants if start <= i < end):
                if checked:
                    local_day = at.astimezone(ZoneInfo(checked[1])).date()
                    opening_day = local_day - dt.timedelta(days=_SHIFT[checked[2]])
                    if opening_day.isoformat() in closures:
                        dropped += 1  # the ExecCondition skips it
                        continue
                fired.append((at, event))
    expected = sorted((e.at.astimezone(UTC), e.kind) for e in hours.events(start, end)
                      if e.kind in EVENTS)
    assert sorted(fired) == expected
    assert dropped and not [e for e in hours.events(start, end) if e.day == closed_day]
    assert {kind for _, kind in expected} == EVENTS


def test_the_next_wake_skips_closed_days_as_the_module_does(host, hours, window):
    _, start, end = window
    bases = [start] + [e.at for e in hours.events(start, end) if e.kind == "shutdown"]
    for base in bases:
        answer = host.check_output(f"{SCRIPT} next-wake {int(base.timestamp())}")
        wake = next(e.at for e in hours.events(base + dt.timedelta(seconds=1),
                                               base + dt.timedelta(days=60)) if e.kind == "wake")
        assert int(answer.split()[0]) == int(wake.timestamp()), (base, answer, wake)


def test_the_wake_step_without_an_rtc_says_so_and_succeeds(host, power_journal):
    if host.file("/dev/rtc0").exists:
        pytest.skip("this host has an RTC: the wake step sets the alarm")
    cursor = _journal_cursor(host)
    host.run_expect([0], f"{SCRIPT} set-wake")
    lines = _power_log(host, cursor, lambda lines: any("no RTC" in x for x in lines))
    assert [x for x in lines if x.startswith("no RTC (/dev/rtc0 missing): the next wake, ")]


def test_in_log_mode_the_shutdown_service_logs_and_the_host_stays_up(
        host, inventory_vars, plan, power_journal):
    if inventory_vars.get("public_pc__power_actions", "act") != "log":
        pytest.skip("power actions are not in log mode here: the shutdown would be real")
    cursor = _journal_cursor(host)
    services = [f"{u}.service" for u, t in plan.items() if t["event"] == "shutdown"]
    ran = _start_and_see_which_ran(host, services)
    assert ran, "no shutdown service passed its ExecCondition today"
    lines = _power_log(host, cursor, lambda lines: sum(
        "would power off" in x for x in lines) >= len(ran))
    assert sum(x == "log mode: would power off now (systemctl poweroff)" for x in lines) == len(ran)
    assert sum(x.startswith(("no RTC", "log mode: would set the RTC alarm")) for x in lines) \
        == len(ran)
    time.sleep(1)
    assert host.check_output("systemctl is-system-running || true") in ("running", "degraded")
    assert "poweroff" not in host.check_output("systemctl list-jobs --no-legend")
    for service in ran:
        assert host.check_output(f"systemctl show -P Result {service}") == "success"


def test_in_log_mode_the_warning_reaches_the_patron_and_the_journal(
        host, inventory_vars, plan, power_journal):
    if inventory_vars.get("public_pc__power_actions", "act") != "log":
        pytest.skip("not in log mode: a real patron would see a test warning")
    patron = inventory_vars.get("public_pc__patron_user", "patron")
    services = [f"{u}.service" for u, t in plan.items() if t["event"] == "warn"]
    cursor = _journal_cursor(host)
    try:
        ran = _start_and_see_which_ran(host, services)
        assert ran, "no warning service passed its ExecCondition today"
        lines = _power_log(host, cursor, lambda lines: sum(
            "shutdown warning" in x for x in lines) >= len(ran))
        warned = [x for x in lines if x.startswith(f"shutdown warning on {patron}'s session ")]
        assert len(warned) == len(ran)
        assert host.process.filter(comm="xmessage")
    finally:
        host.run(f"systemctl stop {' '.join(services)}")
