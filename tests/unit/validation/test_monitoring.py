"""``make validate`` for the monitoring roles' data (node_exporter, monitoring): each bad input
is named by file and key, with the allowed range (copies of the lab site, which has a
monitoring host)."""

import pytest
from sites import edit, write

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
        lambda s: _move_ssh(s, 2222, "---\nnode_exporter__port: 2222\n"),
        [(EXPORTER, "node_exporter__port", "the exporter's port is the port sshd listens on "
                                           "(allowed: another TCP port 1024-65535")]),
    "SSH on the exporter's default port": (
        lambda s: _move_ssh(s, 9100),
        [(EXPORTER, "node_exporter__port", "the exporter's port (the role's default) is the "
                                           "port sshd listens on")]),
    "exporter on a privileged port": (
        lambda s: write(s, EXPORTER, "---\nnode_exporter__port: 631\n"),
        [(EXPORTER, "node_exporter__port", "greater than or equal to 1024 (allowed: a TCP port "
                                           "1024-65535 other than SSH's")]),
    "Prometheus on the exporter's port": (
        lambda s: write(s, MONITORING, "---\nmonitoring__port: 9100\n"),
        [(MONITORING, "monitoring__port", "prometheus' port is the node exporter's")]),
    "Prometheus' configuration over a system file": (
        lambda s: write(s, MONITORING, "---\nmonitoring__config_path: /etc/passwd\n"),
        [(MONITORING, "monitoring__config_path", "(allowed: a .yml file directly under "
                                                 "/etc/prometheus/)")]),
    "scrapers not addresses": (
        lambda s: write(s, EXPORTER, "---\nnode_exporter__scrapers: [monitor.invalid]\n"),
        [(EXPORTER, "node_exporter__scrapers", "not an IP address (allowed: a list of IP "
                                               "addresses")]),
    "a public PC as the monitoring host": (
        lambda s: edit(s, "hosts.yml", "    monitoring:\n      hosts:\n        main-staff-01:\n",
                       "    monitoring:\n      hosts:\n        main-pub-01:\n"),
        [("hosts.yml", "groups.monitoring.main-pub-01", "a monitoring host that is not a staff "
                                                        "machine: patron sessions")]),
    "monitoring host IPv4-mapped": (
        lambda s: edit(s, "hosts.yml", "ansible_host: 10.123.0.21",
                       'ansible_host: "::ffff:10.123.0.21"'),
        [("hosts.yml", "hosts.main-staff-01.ansible_host", "goes into every host's firewall")]),
    "an SSH port that is no number, vaulted or not, is named and never shown": (
        lambda s: write(s, "group_vars/all/sshd_port.yml", "---\nsshd__port: S3cretPort\n"),
        [("group_vars/all/sshd_port.yml", "sshd__port", "input should be a valid integer")]),
    "monitoring host known by name": (
        lambda s: edit(s, "hosts.yml", "ansible_host: 10.123.0.21",
                       "ansible_host: staff.libraryops.invalid"),
        [("hosts.yml", "hosts.main-staff-01.ansible_host",
          "a monitoring host's address goes into every host's firewall (allowed: an IPv4 or "
          "IPv6 address, without a zone, not IPv4-mapped)")]),
    "an alert address that is no address": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alert_emails: [it@library.example, "
                                       "front desk]\nmonitoring__smtp_smarthost: mail.example."
                                       "org:587\nmonitoring__smtp_from: a@library.example\n"),
        [(MONITORING, "monitoring__alert_emails", "entry 2 is not an e-mail address: An email "
                                                  "address must have an @-sign.")]),
    "alert addresses without a relay nor a sender": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alert_emails: [it@library.example]\n"),
        [(MONITORING, "monitoring__smtp_smarthost", "no mail relay while monitoring__alert_"
                                                    "emails names someone: Alertmanager could "
                                                    "not send (allowed: host:port"),
         (MONITORING, "monitoring__smtp_from", "no sender address while monitoring__alert_"
                                               "emails names someone")]),
    "a relay without a port": (
        lambda s: edit(s, MONITORING, "10.123.0.1:2525", "mail.example.org"),
        [(MONITORING, "monitoring__smtp_smarthost", "not host:port with a host name or IP "
                                                    "address and a port 1-65535")]),
    "a relay with a URL": (
        lambda s: edit(s, MONITORING, "10.123.0.1:2525", "smtp://mail.example.org:25/x"),
        [(MONITORING, "monitoring__smtp_smarthost", "not host:port")]),
    "a sender that is no address": (
        lambda s: edit(s, MONITORING, "alerts@library.example", "Library Alerts"),
        [(MONITORING, "monitoring__smtp_from", "not an e-mail address")]),
    "a relay login without its password": (
        lambda s: edit(s, MONITORING, "monitoring__smtp_require_tls: false",
                       "monitoring__smtp_require_tls: false\nmonitoring__smtp_auth_username: "
                       "alerts"),
        [(MONITORING, "monitoring__smtp_auth_password", "no password while monitoring__smtp_"
                                                        "auth_username is set")]),
    "Alertmanager on Prometheus' port": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alertmanager_port: 9090\n"),
        [(MONITORING, "monitoring__alertmanager_port", "alertmanager's port is Prometheus' "
                                                       "port")]),
    "Prometheus on Alertmanager's default port": (
        lambda s: write(s, MONITORING, "---\nmonitoring__port: 9093\n"),
        [(MONITORING, "monitoring__alertmanager_port", "alertmanager's port (the role's "
                                                       "default) is Prometheus' port")]),
    "Alertmanager's file over Prometheus'": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alertmanager_config_path: "
                                       "/etc/prometheus/prometheus.yml\n"),
        [(MONITORING, "monitoring__alertmanager_config_path", "alertmanager's file is "
                                                              "monitoring__config_path's too")]),
    "an alert wait out of range": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alert_wait_seconds: 600\n"),
        [(MONITORING, "monitoring__alert_wait_seconds", "less than or equal to 300 (allowed: "
                                                        "seconds, 0-300)")]),
    "monitoring settings without a monitoring host": (
        lambda s: edit(s, "hosts.yml", "    monitoring:\n      hosts:\n        main-staff-01:\n",
                       "    monitoring:\n      hosts: {}\n"),
        [(MONITORING, "monitoring__alert_emails", "set for the group monitoring, which has no "
                                                  "host: nothing would scrape the hosts nor "
                                                  "send an alert (allowed: a staff machine "
                                                  "listed under groups.monitoring")]),
    "a relay that is no host name": (
        lambda s: edit(s, MONITORING, "10.123.0.1:2525", "mail_relay:25"),
        [(MONITORING, "monitoring__smtp_smarthost", "not host:port")]),
    "the blackbox exporter on Alertmanager's port": (
        lambda s: write(s, MONITORING, "---\nmonitoring__blackbox_port: 9093\n"),
        [(MONITORING, "monitoring__blackbox_port", "the blackbox exporter's port is "
                                                   "Alertmanager's port")]),
    "Alertmanager on the blackbox exporter's default port": (
        lambda s: write(s, MONITORING, "---\nmonitoring__alertmanager_port: 9115\n"),
        [(MONITORING, "monitoring__blackbox_port", "the blackbox exporter's port (the role's "
                                                   "default) is Alertmanager's port")]),
    "the blackbox exporter's file over the rules": (
        lambda s: write(s, MONITORING, "---\nmonitoring__blackbox_config_path: "
                                       "/etc/prometheus/libraryops-rules.yml\n"),
        [(MONITORING, "monitoring__blackbox_config_path", "the blackbox exporter's file is "
                                                          "monitoring__rules_path's too")]),
    "a probed service without a port, another on port 0": (
        lambda s: write(s, MONITORING, "---\nmonitoring__probe_tcp:\n"
                                       "  - {name: libki, address: 10.123.0.1}\n"
                                       "  - {name: cups, address: 10.123.0.1, port: 0}\n"),
        [(MONITORING, "monitoring__probe_tcp[0].port", "missing (allowed: a TCP port "
                                                       "1-65535)"),
         (MONITORING, "monitoring__probe_tcp[1].port", "greater than or equal to 1")]),
    "a probed service named twice": (
        lambda s: write(s, MONITORING, "---\nmonitoring__probe_tcp:\n"
                                       "  - {name: libki, address: 10.123.0.1, port: 443}\n"
                                       "  - {name: libki, address: 10.123.0.2, port: 443}\n"),
        [(MONITORING, "monitoring__probe_tcp", "a name given twice: libki (each names its own "
                                               "alert) (allowed: a list of {name, address, "
                                               "port}, each name once)")]),
    "a probed service with a bad name, a bad address, an unknown key": (
        lambda s: write(s, MONITORING, "---\nmonitoring__probe_tcp:\n"
                                       "  - {name: Libki VM, address: 10.123.0.1, port: 443}\n"
                                       "  - {name: cups, address: bad_host, port: 631}\n"
                                       "  - {name: x, address: 10.123.0.1, port: 1, tls: 1}\n"),
        [(MONITORING, "monitoring__probe_tcp[0].name", "(allowed: a name of a-z, 0-9"),
         (MONITORING, "monitoring__probe_tcp[1].address", "neither an IP address nor a host "
                                                          "name"),
         (MONITORING, "monitoring__probe_tcp[2].tls", "unknown key (allowed: name, address, "
                                                      "port)")]),
    "a probed service outside the lab": (
        lambda s: write(s, MONITORING, "---\nmonitoring__probe_tcp:\n"
                                       "  - {name: libki, address: 192.0.2.10, port: 443}\n"),
        [(MONITORING, "monitoring__probe_tcp[0].address", "in the lab, not on the bridge")]),
    "a disk threshold out of range": (
        lambda s: write(s, MONITORING, "---\nmonitoring__disk_free_percent: 90\n"),
        [(MONITORING, "monitoring__disk_free_percent", "less than or equal to 50 (allowed: "
                                                       "percent, 1-50)")]),
    "a certificate warning of no days": (
        lambda s: write(s, MONITORING, "---\nmonitoring__certificate_warn_days: 0\n"),
        [(MONITORING, "monitoring__certificate_warn_days", "greater than or equal to 1 (allowed: "
                                                           "days, 1-365)")]),
}


def _move_ssh(site, port, exporter=None):
    """Every host's SSH (sshd and the engines) on ``port``; the exporter's file, if given."""
    for host in ("main-pub-01", "main-pub-02", "main-staff-01", "main-ap-01"):
        edit(site, "hosts.yml", f"        {host}:\n          ansible_host:",
             f"        {host}:\n          ansible_port: {port}\n          ansible_host:")
    write(site, "group_vars/all/sshd_port.yml", f"---\nsshd__port: {port}\n")
    if exporter:
        write(site, EXPORTER, exporter)


@pytest.mark.parametrize("case", BAD)
def test_bad_monitoring_data(case, lab, bad_input):
    lines = bad_input(lab, BAD[case])
    assert "S3cretPort" not in "\n".join(lines)
    assert "Traceback" not in "\n".join(lines)
