"""The host supervisor's restart rule and command line."""

from pathlib import Path

import pytest

from libraryops.lab import supervisor


def test_restarts_only_after_a_reboot_request():
    assert supervisor.should_restart(133, stopping=False)
    assert not supervisor.should_restart(133, stopping=True)
    assert not supervisor.should_restart(0, stopping=False)
    assert not supervisor.should_restart(1, stopping=False)


def test_parse_args():
    args = supervisor.parse_args(
        ["--name", "pc", "--pidfile", "/s/pc.pid", "--cgroup", "/a", "--cgroup", "/b",
         "--", "systemd-nspawn", "--boot"]
    )
    assert args.name == "pc"
    assert args.pidfile == Path("/s/pc.pid")
    assert args.cgroup == [Path("/a"), Path("/b")]
    assert args.command == ["systemd-nspawn", "--boot"]


def test_parse_args_needs_a_command():
    with pytest.raises(SystemExit):
        supervisor.parse_args(["--name", "pc", "--pidfile", "/s/pc.pid", "--"])
