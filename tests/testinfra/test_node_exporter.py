"""Role node_exporter: the exporter runs on every host and answers the monitoring hosts only
(a connection from the monitoring host succeeds, one from another host is dropped)."""

import pytest
import testinfra
from conftest import can_connect

testinfra_hosts = ["ansible://all"]


@pytest.fixture(scope="module")
def peers(host):
    """The inventory's monitoring hosts and the other hosts, as testinfra hosts."""
    inventory = host.backend.ansible_inventory
    name = host.backend.get_hostname()
    monitoring = set(host.backend.get_hosts("monitoring", ansible_inventory=inventory))
    everyone = set(host.backend.get_hosts("all", ansible_inventory=inventory))

    def get(names):
        return [testinfra.get_host(f"ansible://{h}", ansible_inventory=inventory)
                for h in sorted(names - {name})]

    return get(monitoring), get(everyone - monitoring)


def test_the_exporter_runs_and_listens_on_its_port(host, role_vars):
    port = role_vars("node_exporter")["node_exporter__port"]
    service = host.service("prometheus-node-exporter")
    assert service.is_enabled and service.is_running
    assert host.socket(f"tcp://{port}").is_listening


def test_only_the_monitoring_hosts_reach_the_exporter(host, inventory_vars, role_vars, peers):
    port = role_vars("node_exporter")["node_exporter__port"]
    monitoring, others = peers
    if not monitoring and not others:
        pytest.skip("needs a second host in the inventory")
    address = inventory_vars["ansible_host"]
    assert [m.backend.get_hostname() for m in monitoring
            if not can_connect(m, address, port)] == [], "a monitoring host cannot scrape"
    assert [o.backend.get_hostname() for o in others
            if can_connect(o, address, port, timeout=2)] == [], "another host reads the exporter"


def test_debian_collectors_publish_pending_updates_and_the_reboot_flag(host, role_vars):
    """The apt collector's timer runs at boot and every 15 min; its file is what the alerts on
    security updates and pending reboots read."""
    assert host.service("prometheus-node-exporter-apt.timer").is_enabled
    assert host.service("prometheus-node-exporter-apt.timer").is_running
    textfile = role_vars("node_exporter")["node_exporter__textfile_dir"]
    # The first run starts with the timer (OnBootSec=0); on a fresh host it may still be running.
    host.run(f"timeout 60 sh -c 'until [ -s {textfile}/apt.prom ]; do sleep 1; done'")
    metrics = host.file(f"{textfile}/apt.prom").content_string
    assert "\nnode_reboot_required " in f"\n{metrics}"
    assert "apt_upgrades_pending{" in metrics
