"""Speed never comes from skipping work: drift planted in one managed file or setting of every role
and of the public-PC deploy is all repaired by one `make converge`.

Each plant appends a line to a file the role or deploy writes (a hand edit), loosens a mode, or
changes a kernel value in force; after one converge every file is byte for byte what it was, the
mode and the value are back. Lab only; runs after `make lab`.
"""

import subprocess

import pytest
import testinfra

from libraryops import paths
from libraryops.inventory import hosts_file, load_site

LAB = load_site(paths.site_dir("lab"))
STAFF = LAB.groups["staff_machines"][0]
AP = LAB.groups["wireless_aps"][0]
PC = LAB.groups["public_pcs"][0]
USER = LAB.hosts[PC]["ansible_user"]
MARK = "# drift planted by tests/integration/test_drift.py"

#: (owner, host, file) of files the converge owns.
FILES = [
    ("sshd", STAFF, "/etc/ssh/sshd_config.d/50-libraryops.conf"),
    ("updates", STAFF, "/etc/apt/apt.conf.d/05libraryops-lock-timeout"),
    ("timesync", STAFF, "/etc/systemd/timesyncd.conf.d/50-libraryops.conf"),
    ("common", STAFF, "/etc/issue.net"),
    ("common", STAFF, "/etc/sysctl.d/50-libraryops-network.conf"),
    ("firewall", STAFF, "/etc/nftables.conf"),
    ("node_exporter", PC, "/etc/default/prometheus-node-exporter"),
    ("monitoring", STAFF, "/etc/prometheus/libraryops-rules.yml"),
    ("monitoring", STAFF, "/etc/prometheus/alertmanager.yml"),
    ("monitoring", STAFF, "/etc/prometheus/blackbox.yml"),
    ("staff_workstation", STAFF, "/etc/sssd/sssd.conf"),
    ("wifi_client", STAFF, "/etc/NetworkManager/system-connections/libraryops-staff.nmconnection"),
    ("wireless_ap", AP, "/etc/systemd/system/libraryops-hostapd@.service"),
    ("public-PC deploy", PC, "/usr/local/sbin/libraryops-session-reset"),
    ("public-PC deploy", PC, "/etc/lightdm/lightdm.conf.d/50-libraryops.conf"),
    ("public-PC deploy", PC, "/etc/polkit-1/rules.d/50-libraryops-patron-linger.rules"),
]
#: A sysctl the common role keeps (common__network_sysctls), planted on the access point.
SYSCTL = "net.ipv4.conf.all.accept_redirects"


def _host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=str(hosts_file(LAB.path)))


def _sha256(host, path):
    return host.check_output(f"sha256sum {path}").split()[0]


@pytest.fixture(scope="module")
def hosts():
    return {name: _host(name) for name in {STAFF, AP, PC}}


def test_a_converge_of_some_roles_repairs_only_them_and_records_no_commit(hosts):
    """`make converge TAGS=sshd` runs the sshd role (and the firewall, which applies its port)
    and nothing else: a hand edit in another role's file and in the deploy's stays, and the
    host's record of the commit it converged from is not rewritten."""
    pc = hosts[PC]
    owned = "/etc/ssh/sshd_config.d/50-libraryops.conf"
    others = ["/etc/issue.net", "/usr/local/sbin/libraryops-session-reset"]
    record = "/var/lib/libraryops/converged/ansible.json"
    before = {path: _sha256(pc, path) for path in [owned, *others, record]}
    try:
        for path in [owned, *others]:
            pc.run_expect([0], f"echo '{MARK}' >> {path}")
        proc = subprocess.run(["make", "converge", f"LIMIT={PC}", "TAGS=sshd"], cwd=paths.REPO,
                              capture_output=True, text=True, timeout=900, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "1 of 1 hosts ran sshd from" in proc.stdout
        assert "pyinfra public PCs" not in proc.stdout
        assert _sha256(pc, owned) == before[owned]
        assert [p for p in others if _sha256(pc, p) == before[p]] == []
        assert _sha256(pc, record) == before[record]
    finally:
        for path in others:
            pc.run_expect([0], f"if [ \"$(tail -n 1 {path})\" = '{MARK}' ]; then "
                               f"sed -i '$d' {path}; fi")
    assert {p: _sha256(pc, p) for p in others} == {p: before[p] for p in others}


def test_one_converge_repairs_drift_in_every_role_and_deploy(hosts):
    before = {(host, path): _sha256(hosts[host], path) for _, host, path in FILES}
    for _, host, path in FILES:
        hosts[host].run_expect([0], f"echo '{MARK}' >> {path}")
    home = f"/home/{USER}"
    hosts[STAFF].run_expect([0], f"chmod 0755 {home}")
    wanted = hosts[AP].check_output(f"sysctl -n {SYSCTL}")
    hosts[AP].run_expect([0], f"sysctl -q -w {SYSCTL}={1 - int(wanted)}")
    drifted = [(owner, path) for owner, host, path in FILES
               if _sha256(hosts[host], path) != before[(host, path)]]
    assert len(drifted) == len(FILES)

    proc = subprocess.run(["make", "converge", "FORCE=1"], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    left = [(owner, path) for owner, host, path in FILES
            if _sha256(hosts[host], path) != before[(host, path)]]
    assert left == []
    assert hosts[STAFF].file(home).mode == 0o700, "accounts: the management home stays 0755"
    assert hosts[AP].check_output(f"sysctl -n {SYSCTL}") == wanted, "common: the sysctl drifted"
