"""Wireless secrets never leave the vault: not in a converge at ``-vvv --diff``, not in the
hosts' journals, not in the pytest, JUnit or HTML output of a verify run.

The secrets are read by decrypting the lab's vault file here (with the lab's documented test
password) and are never printed: every count is reported per place, and any output shown on a
failure has them replaced by ``<secret>``. Each secret is looked for as written and in the forms
it is rendered in (a NetworkManager keyfile escape, a JSON string).

Before the converge, the secret-bearing files on the hosts (hostapd configurations, keyfiles)
are made to differ from what the roles render, so the converge rewrites them and ``--diff`` has
something to show.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from libraryops import paths, wireless
from libraryops.inventory import hosts_file, load_site, vault_lib

LAB = paths.site_dir("lab")
LIMIT = "wireless_aps:staff_machines"
BIN = Path(sys.executable).parent
SUITES = ["tests/testinfra/test_wireless_ap.py", "tests/testinfra/test_wifi_client.py"]


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value:
        yield str(value)


@pytest.fixture(scope="module")
def secrets() -> list[bytes]:
    """Every wireless secret of the lab vault, in each form it could be written in."""
    vault = vault_lib(paths.vault_password_file(LAB))
    data = yaml.safe_load(vault.decrypt((LAB / "group_vars/all/wireless_vault.yml").read_bytes()))
    values = list(_leaves(data["wireless__secrets"]))
    assert len(values) >= 3, "the lab vault holds a passphrase, a RADIUS secret and a password"
    forms = set()
    for value in values:
        forms |= {value, wireless.nm_string(value), json.dumps(value)[1:-1]}
    return sorted(form.encode() for form in forms)


def _count(data: bytes, secrets: list[bytes]) -> int:
    return sum(data.count(secret) for secret in secrets)


def _redacted(data: bytes, secrets: list[bytes]) -> str:
    for secret in secrets:
        data = data.replace(secret, b"<secret>")
    return data.decode(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def lab():
    inventory = load_site(LAB)
    hosts = sorted(set(inventory.groups["wireless_aps"]) | set(inventory.groups["staff_machines"]))
    return inventory, hosts


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
               ANSIBLE_VAULT_PASSWORD_FILE=str(paths.vault_password_file(LAB).resolve()),
               ANSIBLE_NOCOLOR="1")
    env.update(extra)
    return env


def _root_ssh(inventory, host: str, command: str) -> subprocess.CompletedProcess:
    hostvars = inventory.hosts[host]
    config = Path(hostvars["lab__state_dir"]) / "ssh" / "config"
    return subprocess.run(["ssh", "-F", str(config), f"root@{hostvars['ansible_host']}", command],
                          capture_output=True, timeout=120, check=False)


def _secret_files(inventory, host: str) -> list[str]:
    hostvars = inventory.hosts[host]
    files = [p["file"] for p in wireless.client_profiles(hostvars["wireless__networks"],
                                                         inventory.groups_of(host))
             if "staff_machines" in inventory.groups_of(host)]
    if "wireless_aps" in inventory.groups_of(host):
        plan = wireless.ap_plan(hostvars["wireless__networks"], hostvars["wireless_ap__radios"],
                                hostvars.get("wireless_ap__uplink_interface", "eth0"), host)
        files += [radio["config"] for radio in plan["radios"]]
    return files


@pytest.fixture(scope="module")
def converge(lab, secrets, tmp_path_factory):
    """A converge of the wireless hosts at -vvv --diff after their secret files drifted."""
    inventory, hosts = lab
    for host in hosts:
        files = _secret_files(inventory, host)
        assert files, host
        drift = "; ".join(f"echo '# drift' >> {shlex.quote(f)}" for f in files)
        assert _root_ssh(inventory, host, drift).returncode == 0, host
    stats = tmp_path_factory.mktemp("converge") / "ansible-site.json"
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(hosts_file(LAB)), "playbooks/site.yml",
         "--limit", LIMIT, "-vvv", "--diff"],
        cwd=paths.REPO, env=_env(LIBRARYOPS_ANSIBLE_STATS=str(stats)), capture_output=True,
        timeout=1800, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, _redacted(output, secrets)
    return output + (stats.read_bytes() if stats.exists() else b"")


def test_converge_at_vvv_with_diff_shows_no_secret(converge, secrets, lab):
    output = converge
    _, hosts = lab
    # The drifted files were rewritten (there was a diff to show), and the output censored them.
    for host in hosts:
        assert f"changed: [{host}] => (item=(censored due to no_log))".encode() in output, host
    count = _count(output, secrets)
    assert count == 0, f"{count} occurrence(s) of a wireless secret in the converge output"


def test_hosts_journals_hold_no_secret(converge, secrets, lab):
    inventory, hosts = lab
    counts = {}
    for host in hosts:
        journal = _root_ssh(inventory, host, "journalctl --no-pager -o verbose")
        assert journal.returncode == 0, host
        assert len(journal.stdout) > 10000, f"{host}: the journal is nearly empty"
        counts[host] = _count(journal.stdout, secrets)
    assert counts == dict.fromkeys(hosts, 0), f"occurrences of a wireless secret: {counts}"


def test_verify_output_junit_and_html_hold_no_secret(converge, secrets, tmp_path):
    junit, html = tmp_path / "testinfra.xml", tmp_path / "testinfra.html"
    proc = subprocess.run(
        [str(BIN / "pytest"), *SUITES, "-p", "no:cacheprovider", "-rA", "-vv",
         f"--ansible-inventory={hosts_file(LAB)}", f"--junitxml={junit}",
         "-o", "junit_family=xunit1", "-o", "junit_logging=all", f"--html={html}",
         "--self-contained-html"],
        cwd=paths.REPO, env=_env(), capture_output=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, _redacted(output, secrets)
    counts = {"pytest output": _count(output, secrets), "JUnit XML": _count(
        junit.read_bytes(), secrets), "HTML report": _count(html.read_bytes(), secrets)}
    assert counts == dict.fromkeys(counts, 0), f"occurrences of a wireless secret: {counts}"
