"""Role monitoring: Prometheus on the monitoring hosts accepts its configuration (promtool, the
program's own check) and scrapes exactly the inventory's hosts' node exporters, each labelled
with the host's name, branch and function group, each up (Prometheus' own targets API: the
configured targets, not series left from an earlier configuration, such as the Debian
package's default one it ran before the first converge)."""

import json
import shlex
import time

testinfra_hosts = ["ansible://monitoring"]

FUNCTION_GROUPS = ("public_pcs", "staff_machines", "wireless_aps")


def _targets(host, port):
    """instance -> labels and health of Prometheus' active targets of the job ``node``."""
    fetch = ("import json, urllib.request; print(urllib.request.urlopen("
             f"'http://localhost:{port}/api/v1/targets?state=active', timeout=10).read().decode())")
    data = json.loads(host.check_output(f"python3 -c {shlex.quote(fetch)}"))["data"]
    return {t["labels"]["instance"]: {**t["labels"], "health": t["health"]}
            for t in data["activeTargets"] if t["labels"].get("job") == "node"}


def _expected(groups):
    """instance -> the labels Prometheus should give it, from the inventory's groups."""
    def member(host, names):
        return next((g for g in sorted(names) if host in groups.get(g, [])), "")

    branches = [g for g in groups if g.startswith("branch_")]
    return {h: {"instance": h, "job": "node", "health": "up",
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
    found = _targets(host, port)
    while found != expected and time.monotonic() < deadline:
        time.sleep(5)
        found = _targets(host, port)
    assert found == expected
