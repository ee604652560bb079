"""Role monitoring: Prometheus on the monitoring hosts accepts its configuration (promtool, the
program's own check) and scrapes every inventory host's node exporter, labelled with the host's
name, branch and function group (Prometheus' own answer to `up`)."""

import re
import time

testinfra_hosts = ["ansible://monitoring"]

FUNCTION_GROUPS = ("public_pcs", "staff_machines", "wireless_aps")
#: One sample of promtool's instant query output: up{label="value", ...} => 1 @[timestamp]
SAMPLE = re.compile(r"^up\{(?P<labels>[^}]*)\} => (?P<value>\S+) @")
LABEL = re.compile(r'(\w+)="([^"]*)"')


def _up(host, port):
    """instance -> {"value": ..., labels...} of Prometheus' current ``up{job="node"}``."""
    out = host.check_output(
        f"promtool query instant http://localhost:{port} 'up{{job=\"node\"}}'")
    found = {}
    for line in out.splitlines():
        match = SAMPLE.match(line.strip())
        if match:
            labels = dict(LABEL.findall(match["labels"]))
            found[labels["instance"]] = {**labels, "value": match["value"]}
    return found


def _expected(groups):
    """instance -> the labels Prometheus should give it, from the inventory's groups."""
    def member(host, names):
        return next((g for g in sorted(names) if host in groups.get(g, [])), "")

    branches = [g for g in groups if g.startswith("branch_")]
    return {h: {"instance": h, "job": "node", "value": "1",
                "branch": member(h, branches).removeprefix("branch_"),
                "function": member(h, FUNCTION_GROUPS)}
            for h in groups["all"]}


def test_promtool_accepts_the_configuration(host, role_vars):
    path = role_vars("monitoring")["monitoring__config_path"]
    host.check_output(f"promtool check config {path}")
    service = host.service("prometheus")
    assert service.is_enabled and service.is_running


def test_prometheus_scrapes_every_inventory_host_with_its_labels(host, role_vars, inventory_vars):
    port = role_vars("monitoring")["monitoring__port"]
    expected = _expected(inventory_vars["groups"])
    deadline = time.monotonic() + 90  # a converge may just have reloaded it: a scrape or two
    found = _up(host, port)
    while found != expected and time.monotonic() < deadline:
        time.sleep(5)
        found = _up(host, port)
    assert found == expected
