"""Role monitoring: alerts that follow the opening hours.

- The state timers on the monitoring host are the hours model's (``BranchHours.state_timers``),
  read back from the host's systemd and run as of each instant of the sweep by the schedule
  verifier (:mod:`libraryops.timers`), like the public PCs' power timers;
- the state Prometheus holds for each branch is the model's state now (``BranchHours.state``);
- the alert rules, unit-tested by Prometheus itself (``promtool test rules`` on the monitoring
  host) with synthetic series built from the model: a public PC down all day alerts only while
  its branch is open, over an ordinary opening day, a closure day and the first opening after a
  daylight-saving change (dates picked from the inventory's own hours, never today's).
"""

import datetime as dt
import importlib.util
import json
import re
import shlex
import time

import pytest

from libraryops import paths
from libraryops.hours import BranchHours
from libraryops.hours_values import STATE_AFTER, dst_changes
from libraryops.timers import acted, expected, sweep_windows

testinfra_hosts = ["ansible://monitoring"]

UTC = dt.UTC
_FILTER = paths.REPO / "plugins" / "filter" / "hours.py"
#: One sample of promtool's instant query output: name{label="value", ...} => 1 @[timestamp]
_SAMPLE = re.compile(r"^libraryops_branch_state\{(?P<labels>[^}]*)\} => 1 @")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _filters():
    spec = importlib.util.spec_from_file_location("libraryops_hours_filters", _FILTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def branch_plans(host, inventory_vars, role_vars):
    """The role's plan (the hours filter the role renders with): one entry per branch."""
    runner = host.backend.ansible_runner
    groups = inventory_vars["groups"]
    hostvars = {name: runner.get_variables(name) for name in groups["all"]}
    directory = role_vars("monitoring")["monitoring__hours_dir"]
    return _filters().branch_state_plan(groups, hostvars, directory)


@pytest.fixture(scope="module")
def branch_hours(host, inventory_vars):
    """slug -> the branch's :class:`BranchHours`, from its first host's variables."""
    runner = host.backend.ansible_runner
    groups = inventory_vars["groups"]
    return {g.removeprefix("branch_"): BranchHours.from_vars(runner.get_variables(hosts[0]))
            for g, hosts in groups.items() if g.startswith("branch_") and hosts}


def test_the_state_timers_are_the_plans_enabled_active_and_not_persistent(host, branch_plans):
    wanted = {f"{t['unit']}.timer" for plan in branch_plans for t in plan["timers"]}
    out = host.check_output("systemctl list-unit-files --no-legend --plain "
                            "'libraryops-state-*.timer'")
    assert {line.split()[0] for line in out.splitlines() if line.strip()} == wanted
    for unit in sorted(wanted):
        assert host.check_output(f"systemctl is-enabled {unit}") == "enabled"
        assert host.check_output(f"systemctl is-active {unit}") == "active"
        assert host.check_output(f"systemctl show -P Persistent {unit}") == "no"


def test_systemd_sets_each_state_exactly_at_the_models_events(branch_plans, branch_hours,
                                                              timers, now):
    for plan in branch_plans:
        hours = branch_hours[plan["slug"]]
        units = {f"{t['unit']}.timer": t for t in plan["timers"]}
        if not units:
            assert hours.always_open
            continue
        sweep = sweep_windows(hours, now)
        reports = timers.reports(units, sweep)
        assert not [(u, r.failures()) for u, r in reports.items() if r.failures()]
        event_of = {unit: t["event"] for unit, t in units.items()}
        assert acted(reports, event_of) == expected(hours, sweep, STATE_AFTER)
        state_of = {t["event"]: t["state"] for t in plan["timers"]}
        assert state_of == {e: STATE_AFTER[e] for e in state_of}


def _published(host, port):
    out = host.check_output(f"promtool query instant http://localhost:{port} "
                            "'libraryops_branch_state == 1'")
    samples = [dict(_LABEL.findall(m["labels"])) for line in out.splitlines()
               if (m := _SAMPLE.match(line.strip()))]
    return {labels["branch"]: labels["state"] for labels in samples}


def test_prometheus_holds_each_branchs_state_of_now(host, role_vars, branch_hours):
    port = role_vars("monitoring")["monitoring__port"]
    deadline = time.monotonic() + 60  # a converge may just have seeded it: a scrape or two
    while True:
        published = _published(host, port)
        now = dt.datetime.now(UTC)
        # A state may change between Prometheus' last scrape and now: either side is right.
        allowed = {slug: {h.state(now), h.state(now - dt.timedelta(seconds=60))}
                   for slug, h in branch_hours.items()}
        if (set(published) == set(allowed) and all(published[s] in allowed[s] for s in allowed)) \
                or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert set(published) == set(allowed)
    assert {s: published[s] for s in allowed if published[s] not in allowed[s]} == {}


# --- the rules, tested by promtool with series from the model ----------------------------------


def _days(hours: BranchHours, now: dt.datetime) -> dict[str, dt.date]:
    """Dates to test the rules on, from the branch's own hours: an ordinary opening day, a
    closure date closed all day, and the first opening day after a daylight-saving change
    (each when the branch has one)."""
    today = now.astimezone(hours.zone).date()
    days = {}
    ordinary = next((today + dt.timedelta(days=i) for i in range(1, 15)
                     if hours.hours_on(today + dt.timedelta(days=i))
                     and hours.closure_on(today + dt.timedelta(days=i)) is None), None)
    if ordinary:
        days["opening day"] = ordinary
    closed = sorted(c.date for c in hours.branch__closures if not c.hours)
    if closed:
        days["closure day"] = closed[0]
    for change in dst_changes(hours.zone, [today.year, today.year + 1]):
        after = next((change + dt.timedelta(days=i) for i in range(0, 8)
                      if hours.hours_on(change + dt.timedelta(days=i))), None)
        if after:
            days["after a DST change"] = after
            break
    return days


def _rules_test(hours, day, rules_path, down_minutes):
    """A promtool rules test of one local day (00:00 to 24:00, 1-minute steps): a public PC of
    the branch down all day, the state series from the model; firing expected at an evaluation
    when the branch has been open for the whole ``for`` duration before it (Prometheus' pending
    alerts fire once their expression held for ``for``)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=hours.zone).astimezone(UTC)
    minutes = 24 * 60
    instants = [start + dt.timedelta(minutes=m) for m in range(minutes + 1)]
    states = [hours.state(at) for at in instants]
    labels = {"job": "node", "function": "public_pcs", "instance": "pc-under-test",
              "branch": "under_test"}
    series = [{"series": 'up{' + ",".join(f'{k}="{v}"' for k, v in labels.items()) + '}',
               "values": " ".join("0" for _ in instants)}]
    for state in sorted(set(STATE_AFTER.values())):
        series.append({"series": f'libraryops_branch_state{{branch="under_test",state="{state}"}}',
                       "values": " ".join("1" if s == state else "0" for s in states)})
    checks = []
    for minute in range(down_minutes, minutes + 1, 15):
        firing = all(s == "open" for s in states[minute - down_minutes:minute + 1])
        alerts = [{"exp_labels": {**labels, "severity": "page"}, "exp_annotations": {
            "summary": "pc-under-test is down while branch under_test is open"}}] if firing else []
        checks.append({"eval_time": f"{minute}m", "alertname": "PublicPCDownWhileOpen",
                       "exp_alerts": alerts})
    return {"rule_files": [rules_path], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}]}


def test_promtool_fires_the_down_alert_only_while_the_branch_is_open(
        host, role_vars, branch_hours, now):
    settings = role_vars("monitoring")
    down = settings["monitoring__down_minutes"]
    tested = []
    for slug, hours in sorted(branch_hours.items()):
        for what, day in _days(hours, now).items():
            document = _rules_test(hours, day, settings["monitoring__rules_path"], down)
            path = f"/tmp/libraryops-rules-test-{slug}.json"
            host.check_output(f"printf '%s' {shlex.quote(json.dumps(document))} > {path}")
            result = host.run(f"promtool test rules {path}; status=$?; rm -f {path}; "
                              "exit $status")
            assert result.rc == 0, f"{slug}, {what} ({day}): {result.stdout}{result.stderr}"
            tested.append(what)
    assert "opening day" in tested
