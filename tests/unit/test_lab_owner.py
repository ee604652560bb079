"""Who runs the lab's processes: the probe, the systemd units' command lines, the detached
daemons (run for real here), and where the package cache gets its mirror from."""

import socket
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from libraryops.lab import aptsources, hosts, owner
from libraryops.lab.config import LabHost
from libraryops.lab.system import LabError
from libraryops.processes import process_cmdline

HOST = LabHost("main-pub-01", IPv4Address("10.123.0.11"), "12")


def test_probe_picks_systemd_when_it_is_pid_1(tmp_path):
    (tmp_path / "run-systemd").mkdir()
    assert owner.probe(tmp_path / "run-systemd", tmp_path / "cgroup") == owner.SYSTEMD


def test_probe_picks_the_supervisor_on_a_v1_machine_without_systemd(tmp_path):
    (tmp_path / "cgroup" / "systemd").mkdir(parents=True)
    (tmp_path / "cgroup" / "systemd" / "cgroup.procs").write_text("1\n")
    assert owner.probe(tmp_path / "run-systemd", tmp_path / "cgroup") == owner.SUPERVISOR


def test_probe_refuses_a_v2_machine_without_systemd_in_one_line(tmp_path):
    (tmp_path / "cgroup").mkdir()
    (tmp_path / "cgroup" / "cgroup.controllers").write_text("")
    with pytest.raises(LabError, match=r"neither systemd as PID 1 nor a name=systemd") as err:
        owner.probe(tmp_path / "run-systemd", tmp_path / "cgroup")
    assert "\n" not in str(err.value)


def test_a_host_unit_has_the_properties_of_systemd_nspawn_at_service():
    nspawn = hosts.nspawn_command("/usr/bin/systemd-nspawn", "lolab0", HOST, Path("/r"),
                                  owner.SYSTEMD)
    argv = owner.systemd_run_command(
        owner.host_unit("main-pub-01"), nspawn, log=Path("/l/main-pub-01.log"), no_block=True,
        properties=owner.NSPAWN_UNIT_PROPERTIES)
    assert argv[:6] == ["systemd-run", "--unit=libraryops-lab-host-main-pub-01.service",
                        "--slice=libraryops-lab.slice", "--collect", "--quiet", "--no-block"]
    for prop in ("Type=notify", "KillMode=mixed", "Delegate=yes", "RestartForceExitStatus=133",
                 "SuccessExitStatus=133", "StandardOutput=append:/l/main-pub-01.log"):
        assert f"--property={prop}" in argv
    command = argv[argv.index("--") + 1:]
    assert command == nspawn
    # registered with machined (machinectl, journalctl -M); cgroups under its delegated unit
    assert "--register=no" not in command and "--keep-unit" in command
    assert "--link-journal=try-guest" in command


def test_without_systemd_nspawn_neither_registers_nor_links_the_journal():
    command = hosts.nspawn_command("/usr/bin/systemd-nspawn", "lolab0", HOST, Path("/r"),
                                   owner.SUPERVISOR)
    assert {"--register=no", "--keep-unit", "--link-journal=no"} <= set(command)


def test_a_daemon_unit_runs_in_the_lab_slice_with_its_environment():
    daemon = owner.Daemon("arm", ("/usr/bin/python3", "-m", "x"), Path("/s/arm.log"),
                          Path("/s/arm.pid"), "x", {"TZ": "UTC"})
    argv = owner.systemd_run_command(daemon.unit, daemon.argv, log=daemon.log,
                                     properties=("Type=exec",), env=daemon.env)
    assert argv[1:3] == ["--unit=libraryops-lab-arm.service", "--slice=libraryops-lab.slice"]
    assert "--setenv=TZ=UTC" in argv and "--property=Type=exec" in argv
    assert argv[-4:] == ["--", "/usr/bin/python3", "-m", "x"]


def test_a_detached_daemon_starts_is_found_and_stops_with_its_group(tmp_path, monkeypatch):
    monkeypatch.setattr(owner, "kind", lambda: owner.SUPERVISOR)
    marker = str(tmp_path / "marker")
    # the shell starts a child of its own: stopping must end the whole process group
    script = f'sleep 300 & echo "$!" > {tmp_path}/child; wait # {marker}'
    daemon = owner.Daemon("t", ("sh", "-c", script), tmp_path / "t.log", tmp_path / "t.pid",
                          marker)
    assert owner.daemon_pid(daemon) is None
    pid = owner.start_daemon(daemon)
    assert owner.daemon_pid(daemon) == pid
    assert Path(f"/proc/{pid}/stat").read_text().split()[5] == str(pid)  # own session
    child = _wait_for_pid(tmp_path / "child")
    assert owner.stop_daemon(daemon)
    assert owner.daemon_pid(daemon) is None and not daemon.pidfile.exists()
    assert process_cmdline(child) == []
    assert not owner.stop_daemon(daemon)


def test_a_reused_pid_is_not_taken_for_the_daemon(tmp_path, monkeypatch):
    monkeypatch.setattr(owner, "kind", lambda: owner.SUPERVISOR)
    daemon = owner.Daemon("t", ("x",), tmp_path / "t.log", tmp_path / "t.pid", "no-such-marker")
    daemon.pidfile.write_text(f"{Path('/proc/self').resolve().name}\n")
    assert owner.daemon_pid(daemon) is None


def test_a_lab_daemon_that_does_not_answer_raises_a_lab_error_with_its_log(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(owner, "kind", lambda: owner.SUPERVISOR)
    marker = str(tmp_path / "marker")
    daemon = owner.Daemon("t", ("sh", "-c", f"echo no printer here; exit 1 # {marker}"),
                          tmp_path / "t.log", tmp_path / "t.pid", marker)
    with pytest.raises(LabError, match=r"^t did not start; see .*t\.log:\nno printer here$"):
        owner.start_answering(daemon, lambda: False, 10, "t did not start")
    assert owner.daemon_pid(daemon) is None


def test_a_lab_daemon_whose_port_is_taken_is_not_started(tmp_path, monkeypatch):
    monkeypatch.setattr(owner, "kind", lambda: owner.SUPERVISOR)
    daemon = owner.Daemon("t", ("sh", "-c", "exit 0"), tmp_path / "t.log", tmp_path / "t.pid",
                          "t")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LabError, match=rf"^port {port} on 127.0.0.1 is taken by .*: "
                                           "the lab's t needs it$"):
            owner.start_answering(daemon, lambda: True, 10, "t did not start",
                                  ports=(("127.0.0.1", port),), needs="the lab's t needs it")
    assert not daemon.log.exists()


def _wait_for_pid(path: Path) -> int:
    from libraryops.processes import wait_until

    assert wait_until(lambda: path.is_file() and path.read_text().strip(), 10)
    return int(path.read_text())


INDEXTARGETS = """\
http://mirror.town.example/debian/ bookworm
http://mirror.town.example/debian/ bookworm-updates
https://deb.nodesource.com/node_20.x/ nodistro
http://security.town.example/debian-security/ bookworm-security
http://deb.debian.org/debian/ trixie
"""


def test_upstreams_are_the_machines_own_mirror_for_its_release():
    found = aptsources.pick_upstreams(INDEXTARGETS, "bookworm")
    assert found == {
        "debian": aptsources.Upstream("http://mirror.town.example/debian"),
        "debian-security": aptsources.Upstream("http://security.town.example/debian-security"),
    }
    assert found["debian"].path == "/debian" and not found["debian"].is_address


def test_a_missing_security_source_is_named_with_the_fix():
    with pytest.raises(LabError, match=r"no entry for suite trixie-security.*debian.sources"):
        aptsources.pick_upstreams(INDEXTARGETS, "trixie")


def test_codename_from_os_release():
    assert aptsources.codename('NAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\n') == "trixie"
    assert aptsources.codename("ID=debian\n") == ""


def test_apt_itself_reports_this_machines_sources():
    if not Path("/usr/bin/apt-get").exists():
        pytest.fail("apt-get missing: the lab runs on Debian")
    found = aptsources.lab_upstreams()
    assert set(found) == {"debian", "debian-security"}
    assert all(u.scheme in ("http", "https") for u in found.values())

