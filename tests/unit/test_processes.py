"""Detached daemons (libraryops.processes), run for real: start, answer, stop of the whole process
group, and a failed start that raises with its log's tail -- and the ARM stand-in's command line
that prints it as one error line instead of a traceback."""

import socket
import time
from pathlib import Path

import pytest

from libraryops import processes
from libraryops.cloud import standin
from libraryops.processes import Daemon, DaemonError, process_cmdline, wait_until


def _daemon(tmp_path: Path, script: str) -> Daemon:
    marker = str(tmp_path / "marker")
    return Daemon("t", ("sh", "-c", f"{script} # {marker}"), tmp_path / "t.log",
                  tmp_path / "t.pid", marker)


def _pid_in(path: Path) -> int:
    assert wait_until(lambda: path.is_file() and path.read_text().strip(), 10)
    return int(path.read_text())


def test_a_daemon_starts_detached_answers_and_stops(tmp_path):
    daemon = _daemon(tmp_path, "echo ready; sleep 300")
    assert processes.find(daemon) is None
    pid = processes.start_and_wait(daemon, lambda: "ready" in daemon.log.read_text(), 10,
                                   "t did not start")
    assert processes.find(daemon) == pid and daemon.pidfile.read_text() == f"{pid}\n"
    assert Path(f"/proc/{pid}/stat").read_text().split()[5] == str(pid)  # a session of its own
    assert processes.stop(daemon)
    assert processes.find(daemon) is None and not daemon.pidfile.exists()
    assert not processes.stop(daemon)


def test_stop_waits_for_the_whole_group_not_only_its_leader(tmp_path, monkeypatch):
    monkeypatch.setattr(processes, "STOP_TIMEOUT", 1)
    # the leader ends at SIGTERM; its child ignores it and must be killed before stop returns
    daemon = _daemon(tmp_path, f"(trap '' TERM; sleep 300) & echo $! > {tmp_path}/child; wait")
    pid = processes.start(daemon)
    child = _pid_in(tmp_path / "child")
    assert processes.group_running(pid)
    assert processes.stop(daemon)
    assert process_cmdline(child) == [] and not processes.group_running(pid)


def test_a_daemon_that_exits_raises_with_its_log_tail_without_waiting_out_the_timeout(tmp_path):
    daemon = _daemon(tmp_path, "echo 'bind: Address already in use'; exit 3")
    began = time.monotonic()
    with pytest.raises(DaemonError) as caught:
        processes.start_and_wait(daemon, lambda: False, 30, "t did not start on 127.0.0.1")
    assert time.monotonic() - began < 10
    assert str(caught.value) == (f"t did not start on 127.0.0.1; see {daemon.log}:\n"
                                 "bind: Address already in use")
    assert not daemon.pidfile.exists()


def test_a_daemon_that_never_answers_is_stopped_and_every_log_is_shown(tmp_path):
    daemon = _daemon(tmp_path, "echo starting; sleep 300")
    other = tmp_path / "error.log"
    other.write_text("emerg: no such file\n")
    with pytest.raises(DaemonError, match=r"(?s)t did not start; see .*t\.log and .*error\.log:"
                                          r"\nstarting\nemerg: no such file"):
        processes.start_and_wait(daemon, lambda: False, 0.5, "t did not start", logs=(other,))
    assert processes.find(daemon) is None and not daemon.pidfile.exists()


def test_the_standin_that_cannot_start_is_one_error_line_with_its_log(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = standin.main(["start", "--state-dir", str(tmp_path / "arm"), "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"ARM stand-in: error: the ARM stand-in did not start in "
                          f"{tmp_path / 'arm'}; see {tmp_path / 'arm' / 'standin.log'}:\n")
    assert "Address already in use" in err
    assert standin.status(tmp_path / "arm") is None
