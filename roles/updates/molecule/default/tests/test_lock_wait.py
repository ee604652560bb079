"""Scenario only: the converge started while another process held the dpkg lock for a minute
(prepare.yml), waited, and installed afterwards (dpkg's own log says when)."""

testinfra_hosts = ["ansible://all"]


def test_converge_waited_for_the_dpkg_lock_and_succeeded(host):
    taken = host.file("/run/scenario-lock-taken").content_string
    released = host.file("/run/scenario-lock-released").content_string
    installs = [line for line in host.file("/var/log/dpkg.log").content_string.splitlines()
                if " install unattended-upgrades:" in line]
    assert installs, "unattended-upgrades was never installed"
    assert taken < released <= installs[0][:19]
    assert host.package("unattended-upgrades").is_installed
