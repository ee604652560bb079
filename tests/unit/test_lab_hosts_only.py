"""The lab's print server and the throwaway hosts of other site directories (molecule)."""

from libraryops.lab import __main__ as cli
from libraryops.lab import cgroups, printer, render
from libraryops.lab.config import Layout, config_from_hosts

SETTINGS = {
    "lab__bridge_name": "lolab0",
    "lab__bridge_address": "10.123.0.1/24",
    "lab__state_dir": "/var/lib/libraryops-lab",
    "lab__release": "12",
}
CONFIG = config_from_hosts(
    {"mol-a": {**SETTINGS, "ansible_host": "10.123.0.101", "ansible_user": "root"}}, {})


def test_printer_port_is_answered_only_on_the_bridge_and_loopback():
    text = render.nft_ruleset(CONFIG)
    assert 'iifname != { "lo", "lolab0" } tcp dport 631 drop' in text
    assert text.index("tcp dport 631 drop") < text.index('iifname "lolab0" jump from_lab')


def test_printer_runs_on_a_private_bus_and_serves_the_bridge_uri(monkeypatch):
    monkeypatch.setattr(printer, "program", lambda name: f"/usr/bin/{name}")
    argv = printer.command(Layout(CONFIG.state_dir))
    assert argv[:2] == ["/usr/bin/dbus-run-session", "--"]
    assert 'DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS"' in argv[4]
    assert argv[-7:] == ["-p", "631", "-r", "off", "-d",
                         "/var/lib/libraryops-lab/printer/spool", printer.PRINTER_NAME]
    assert printer.printer_uri(CONFIG) == "ipp://10.123.0.1:631/ipp/print"


def test_lab_host_records_the_connecting_user():
    assert CONFIG.hosts[0].user == "root"


def test_removing_some_hosts_keeps_the_other_hosts_cgroups(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "CGROUP_FS", tmp_path)
    for host in ("mol-a", "main-pub-01"):
        (tmp_path / "memory" / cgroups.LAB_GROUP / host / "payload").mkdir(parents=True)
    assert cgroups.remove_lab_groups(["mol-a"]) == []
    assert cgroups.host_names() == ["main-pub-01"]
    assert cgroups.remove_lab_groups() == []
    assert not (tmp_path / "memory" / cgroups.LAB_GROUP).exists()


def test_cli_down_only_these_hosts(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "down", lambda site_dir, only_these_hosts: calls.append(
        (site_dir, only_these_hosts)))
    assert cli.main(["down", "--site-dir", "x", "--only-these-hosts"]) == 0
    assert cli.main(["down", "--site-dir", "y"]) == 0
    assert calls == [("x", True), ("y", False)]
