"""Lab helpers: prerequisite errors, file writes, state records, the CLI's error path."""

import pytest

from libraryops.lab import __main__ as cli
from libraryops.lab import state, system
from libraryops.lab.hosts import nspawn_command


def test_missing_programs_are_named_with_their_packages(monkeypatch):
    monkeypatch.setattr(system.shutil, "which", lambda name, path=None: None)
    with pytest.raises(system.LabError) as err:
        system.require_programs("systemd-nspawn", "nft", "nginx")
    assert "missing programs: systemd-nspawn, nft, nginx" in str(err.value)
    assert "apt-get install -y nftables nginx-light systemd-container" in str(err.value)


def test_run_reports_missing_program(monkeypatch):
    monkeypatch.setattr(system.shutil, "which", lambda name, path=None: None)
    with pytest.raises(system.LabError, match=r"mmdebstrap not found.*apt-get install -y mmdeb"):
        system.run(["mmdebstrap", "--version"])


def test_require_root(monkeypatch):
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(system.LabError, match="needs root"):
        system.require_root()


def test_run_times_out_instead_of_hanging():
    with pytest.raises(system.LabError, match="no answer after 0.2 s"):
        system.run(["sleep", "5"], timeout=0.2)


def test_write_file_is_idempotent_and_replaces_symlinks(tmp_path):
    target = tmp_path / "outside"
    target.write_text("keep")
    link = tmp_path / "resolv.conf"
    link.symlink_to(target)
    assert system.write_file(link, "", mode=0o644)
    assert target.read_text() == "keep" and not link.is_symlink()
    assert not system.write_file(link, "", mode=0o644)
    assert system.write_file(link, "", mode=0o600)


def test_state_records_and_removes_entries(tmp_path):
    path = tmp_path / "state.json"
    assert state.load(path) == {}
    state.record(path, bridge="lolab0", nft_table="inet libraryops_lab")
    state.record(path, nft_table=None)
    assert state.load(path) == {"bridge": "lolab0"}
    path.write_text("not json")
    assert state.load(path) == {}


def test_nspawn_command_has_the_lab_notes_options(tmp_path):
    from ipaddress import IPv4Address

    from libraryops.lab.config import LabHost

    argv = nspawn_command("/usr/bin/systemd-nspawn", "lolab0",
                          LabHost("pc", IPv4Address("10.123.0.11"), "12"), tmp_path, "supervisor")
    for option in ("--boot", "--network-bridge=lolab0", "--resolv-conf=off", "--register=no",
                   "--keep-unit", "--link-journal=no", "--console=read-only", "--machine=pc"):
        assert option in argv


def test_cli_prints_lab_errors_and_exits_1(monkeypatch, capsys):
    def fail(site_dir):
        raise system.LabError("must run as root")

    monkeypatch.setattr(cli, "up", fail)
    assert cli.main(["up", "--site-dir", "inventories/lab"]) == 1
    assert capsys.readouterr().err == "lab-up: error: must run as root\n"


def _fake_ssh(failed_units, calls):
    """A stand-in for hosts.ssh: ``systemctl --failed`` lists ``failed_units`` until a
    ``reset-failed``; ``is-system-running`` answers from that list."""
    import subprocess

    def _ssh(config, host, remote, timeout=30):
        calls.append(remote)
        if remote[:2] == ["systemctl", "reset-failed"]:
            failed_units.clear()
        out = ""
        if "--failed" in remote:
            out = "".join(f"{u} loaded failed failed x\n" for u in failed_units)
        elif "is-system-running" in remote:
            out = "degraded\n" if failed_units else "running\n"
        return subprocess.CompletedProcess(remote, 0, out, "")

    return _ssh


@pytest.mark.parametrize(("failed", "ready"), [
    (["user@0.service"], True),  # the lab's own root login manager: reset, then ready
    (["user@0.service", "cups.service"], False),  # a unit of the host under test: an error
])
def test_a_host_degraded_only_by_a_login_manager_is_reset_not_refused(
        monkeypatch, tmp_path, failed, ready):
    from ipaddress import IPv4Address

    from libraryops.lab import hosts
    from libraryops.lab.config import LabHost

    calls = []
    monkeypatch.setattr(hosts, "ssh", _fake_ssh(list(failed), calls))
    monkeypatch.setattr(hosts, "_wait_one", lambda config, host, deadline: "degraded")

    class Config:
        class layout:
            host_log = staticmethod(lambda name: tmp_path / f"{name}.log")

    host = LabHost("pc", IPv4Address("10.123.0.11"), "12")
    if ready:
        hosts.wait_ready(Config, [host], timeout=5)
        assert ["systemctl", "reset-failed", "user@*.service"] in calls
    else:
        with pytest.raises(system.LabError, match=r"pc: systemd is degraded, failed units: "
                                                  r"user@0.service, cups.service"):
            hosts.wait_ready(Config, [host], timeout=5)
        assert ["systemctl", "reset-failed", "user@*.service"] not in calls


def test_running_addresses_are_read_from_each_hosts_own_network_file(tmp_path, monkeypatch):
    from libraryops.lab import hosts
    from libraryops.lab.config import Layout

    layout = Layout(tmp_path)
    for name, address in (("main-pub-01", "10.123.0.11"), ("mol-x-01", "10.123.0.105"),
                          ("stopped-01", "10.123.0.12")):
        network = hosts.host_paths(layout, name).upper / hosts.HOST0_NETWORK
        network.parent.mkdir(parents=True)
        network.write_text(f"[Network]\nAddress={address}/24\nDHCP=no\n")
    monkeypatch.setattr(hosts, "supervisor_pid",
                        lambda layout, name: None if name == "stopped-01" else 4242)
    assert hosts.running_addresses(layout) == {"10.123.0.11": "main-pub-01",
                                               "10.123.0.105": "mol-x-01"}
