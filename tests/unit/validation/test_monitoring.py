"""``make validate`` for the monitoring roles' data (node_exporter, monitoring): each bad input
is named by file and key, with the allowed range (copies of the lab site, which has a
monitoring host)."""

import pytest
from sites import assert_problems, edit, write

MONITORING = "group_vars/monitoring/monitoring.yml"
EXPORTER = "group_vars/all/node_exporter.yml"

BAD = {
    "scrape interval not a duration": (
        lambda s: write(s, MONITORING, "---\nmonitoring__scrape_interval: often\n"),
        [(MONITORING, "monitoring__scrape_interval", "not a scrape interval in range (allowed: "
                                                     "a duration of 5s to 5m")]),
    "scrape interval too short": (
        lambda s: write(s, MONITORING, "---\nmonitoring__scrape_interval: 1s\n"),
        [(MONITORING, "monitoring__scrape_interval", "not a scrape interval in range")]),
    "scrape interval too long": (
        lambda s: write(s, MONITORING, "---\nmonitoring__scrape_interval: 6m\n"),
        [(MONITORING, "monitoring__scrape_interval", "not a scrape interval in range")]),
    "retention out of range": (
        lambda s: write(s, MONITORING, "---\nmonitoring__retention_days: 0\n"),
        [(MONITORING, "monitoring__retention_days", "greater than or equal to 1 (allowed: "
                                                    "days, 1-3650)")]),
    "alert delay out of range": (
        lambda s: write(s, MONITORING, "---\nmonitoring__down_minutes: 90\n"),
        [(MONITORING, "monitoring__down_minutes", "less than or equal to 60 (allowed: minutes, "
                                                  "1-60)")]),
    "web clients reach the Internet": (
        lambda s: write(s, MONITORING, "---\nmonitoring__clients: [0.0.0.0/1, 128.0.0.0/1]\n"),
        [(MONITORING, "monitoring__clients", "together the networks reach the Internet")]),
    "exporter on the SSH port": (
        lambda s: write(s, EXPORTER, "---\nnode_exporter__port: 22\n"),
        [(EXPORTER, "node_exporter__port", "is the port sshd listens on")]),
    "exporter port out of range": (
        lambda s: write(s, EXPORTER, "---\nnode_exporter__port: 70000\n"),
        [(EXPORTER, "node_exporter__port", "less than or equal to 65535 (allowed: a TCP port "
                                           "1-65535 other than SSH's")]),
    "monitoring host known by name": (
        lambda s: edit(s, "hosts.yml", "ansible_host: 10.123.0.21",
                       "ansible_host: staff.libraryops.invalid"),
        [("hosts.yml", "hosts.main-staff-01.ansible_host",
          "a monitoring host's address goes into every host's firewall (allowed: an IPv4 or "
          "IPv6 address)")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_monitoring_data(case, lab, capsys):
    spoil, expected = BAD[case]
    spoil(lab)
    assert_problems(lab, capsys, expected)
