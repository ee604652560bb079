"""Role sshd: the effective settings in sshd's own view (sshd -T), what a client sees, and what
an outside audit (ssh-audit, pinned in requirements.txt) reports."""

import json
import re
import subprocess
import sys
from pathlib import Path

testinfra_hosts = ["ansible://all"]

# sshd -T prints PermitRootLogin prohibit-password under its older name.
_SSHD_T_NAMES = {"prohibit-password": "without-password", "no": "no"}


def _effective(host):
    """sshd -T as {keyword: value}; a keyword printed on several lines (allowgroups) joins them
    with spaces."""
    found = {}
    for line in host.check_output("sshd -T").splitlines():
        key, _, value = line.partition(" ")
        found[key] = f"{found[key]} {value}" if key in found else value
    return found


def test_sshd_effective_settings_match_inventory(host, role_vars):
    settings = role_vars("sshd")
    effective = _effective(host)
    assert effective["permitrootlogin"] == _SSHD_T_NAMES[settings["sshd__permit_root_login"]]
    expected_password = "yes" if settings["sshd__password_authentication"] else "no"
    assert effective["passwordauthentication"] == expected_password
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["permitemptypasswords"] == "no"
    assert effective["pubkeyauthentication"] == "yes"
    assert effective["allowgroups"].split() == settings["sshd__allow_groups"]
    assert effective["ciphers"].split(",") == settings["sshd__ciphers"]
    known = host.check_output("ssh -Q kex").split()
    offered = settings["sshd__kex_algorithms"] + settings["sshd__kex_extra_algorithms"]
    assert effective["kexalgorithms"].split(",") == [k for k in offered if k in known]
    assert effective["hostkey"].split() == [f"/etc/ssh/ssh_host_{t}_key"
                                            for t in settings["sshd__host_key_types"]]
    assert effective["macs"].split(",") == settings["sshd__macs"]
    assert effective["banner"] == settings["sshd__banner"]
    assert effective["port"].split() == [str(settings["sshd__port"])]
    assert effective["x11forwarding"] == "no"


def test_sshd_is_running_with_the_dropin(host, role_vars):
    assert host.service("ssh").is_running
    dropin = host.file(role_vars("sshd")["sshd__dropin_path"])
    assert dropin.user == "root" and dropin.mode == 0o644


def test_password_login_is_refused_unless_the_inventory_allows_it(controller_ssh, role_vars,
                                                                  inventory_vars):
    """A password attempt from the controller: the server's own list of methods it still accepts
    ("Permission denied (publickey)") has password only where the inventory allows it."""
    user = inventory_vars.get("ansible_user", "root")
    proc = controller_ssh(user, "-o", "PreferredAuthentications=password",
                          "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=0")
    assert proc.returncode == 255, proc.stderr
    methods = re.search(r"Permission denied \(([^)]*)\)", proc.stderr)
    assert methods, proc.stderr
    assert ("password" in methods[1].split(",")) == role_vars("sshd")[
        "sshd__password_authentication"]


def test_weak_cipher_and_key_exchange_are_refused(controller_ssh, inventory_vars):
    user = inventory_vars.get("ansible_user", "root")
    assert "no matching cipher" in controller_ssh(user, "-o", "Ciphers=aes128-cbc").stderr
    assert "no matching key exchange" in controller_ssh(
        user, "-o", "KexAlgorithms=diffie-hellman-group14-sha1").stderr
    assert controller_ssh(user).returncode == 0


#: ssh-audit's words for a classical key exchange (its warning on every non-post-quantum one).
_NOT_POST_QUANTUM = "does not provide protection against post-quantum attacks"


def test_an_outside_audit_finds_no_failure_and_no_warning(host, inventory_vars, role_vars):
    """ssh-audit from the controller against the host's sshd: no failure, no CVE, and no warning
    except the one the inventory documents (sshd__kex_extra_algorithms: a classical key exchange
    for a client without a post-quantum one)."""
    settings = role_vars("sshd")
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("ssh-audit")), "-j", "--skip-rate-test", "-p",
         str(settings["sshd__port"]), inventory_vars["ansible_host"]],
        capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(audit.stdout)
    notes = {(kind, entry["algorithm"], level, text)
             for kind in ("kex", "key", "enc", "mac")
             for entry in report.get(kind, [])
             for level in ("fail", "warn")
             for text in entry.get("notes", {}).get(level, [])}
    documented = {("kex", kex, "warn", _NOT_POST_QUANTUM)
                  for kex in settings["sshd__kex_extra_algorithms"]}
    assert notes == documented
    assert report["cves"] == []
