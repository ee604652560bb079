"""Nobody locked out: a converge that would take away the key the engines log in with is refused
before any host changes (libraryops/validation/identity.py, the accounts check).

Each case converges a copy of the lab site (``INVENTORY=``) with the management account's keys
changed as a careless administrator would, and checks on every lab host that the management
account's ``authorized_keys`` is byte for byte what it was. Lab only; runs after `make lab`.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import testinfra

from libraryops import paths
from libraryops.inventory import hosts_file, load_site

LAB = load_site(paths.site_dir("lab"))
USER = LAB.hosts[LAB.groups["public_pcs"][0]]["ansible_user"]
ACCOUNTS = "group_vars/all/accounts.yml"
LAB_PUBLIC_KEY = "/var/lib/libraryops-lab/ssh/id_ed25519.pub"


def _key(directory: Path) -> Path:
    """A fresh, valid ed25519 public key file that no host holds."""
    private = directory / "id_other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "other", "-f",
                    str(private)], check=True)
    return Path(f"{private}.pub")


def _authorized_keys() -> dict[str, str]:
    """Each lab host's SHA-256 of the management account's authorized_keys (read as root: the
    inventory's become)."""
    sums = {}
    for name in sorted(LAB.hosts):
        host = testinfra.get_host(f"ansible://{name}",
                                  ansible_inventory=str(hosts_file(LAB.path)))
        sums[name] = host.check_output(f"sha256sum ~{USER}/.ssh/authorized_keys").split()[0]
    return sums


def _wrong_key(site: Path, tmp_path: Path) -> str:
    text = (site / ACCOUNTS).read_text().replace(LAB_PUBLIC_KEY, str(_key(tmp_path)))
    (site / ACCOUNTS).write_text(text)
    return "which this list does not hold: the run would replace the account's keys"


def _account_removed(site: Path, tmp_path: Path) -> str:
    (site / ACCOUNTS).write_text(
        "---\naccounts__management_users:\n  - name: townit\n    ssh_key_files:\n"
        f"      - {_key(tmp_path)}\n")
    return "does not list the account the engines connect as"


@pytest.mark.parametrize("change", [_wrong_key, _account_removed])
def test_a_converge_that_would_lock_the_engines_out_changes_no_host(change, tmp_path):
    site = tmp_path / "lab"
    shutil.copytree(LAB.path, site)
    expected = change(site, tmp_path)
    before = _authorized_keys()
    proc = subprocess.run(["make", "converge", "SITE=lab", f"INVENTORY={site}"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert expected in output and "nothing was contacted" in output, output
    if change is _wrong_key:
        fingerprint = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", LAB_PUBLIC_KEY],
                                     capture_output=True, text=True, check=True).stdout.split()[1]
        assert fingerprint in output and "main-pub-01" in output, output
    assert _authorized_keys() == before
