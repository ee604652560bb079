"""The value types ``make validate`` shares among concerns: SSH public keys and key files, and
the lab's rule that every outside service is local.
"""

import base64
from pathlib import Path

import pytest
from sites import ACCOUNTS, STAFF, TIMESYNC, assert_problems, edit, write

from libraryops.validation.values import check_public_key


def test_lab_services_must_stay_on_the_bridge_or_under_invalid(lab, capsys):
    edit(lab, TIMESYNC, "[10.123.0.1]", "[10.123.0.1, pool.ntp.org]")
    edit(lab, STAFF, "ipp://10.123.0.1:631/ipp/print", "ipp://192.0.2.7/ipp/print")
    edit(lab, STAFF, "main.libraryops.invalid", "ad.example.org")
    assert_problems(lab, capsys, [
        (TIMESYNC, "timesync__ntp_servers[1]", "in the lab, not on the bridge and not under "
                                               ".invalid (allowed: an address in 10.123.0.0/24"),
        (STAFF, "staff_workstation__printers[0].uri", "in the lab, not on the bridge"),
        (STAFF, "staff_workstation__ad_domain", "in the lab, not on the bridge"),
    ])


# --- SSH public keys and key files -------------------------------------------------------------


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _rsa_key(bits: int) -> str:
    modulus = (1 << (bits - 1)) | 1
    blob = b"".join(_ssh_string(part) for part in (
        b"ssh-rsa", (65537).to_bytes(3, "big"), b"\x00" + modulus.to_bytes(bits // 8, "big")))
    return f"ssh-rsa {base64.b64encode(blob).decode()} rsa@test"


def test_generated_keys_are_accepted(key_pair):
    line = Path(f"{key_pair}.pub").read_text().strip()
    assert check_public_key(line) == line
    assert check_public_key(_rsa_key(2048)) == _rsa_key(2048)


@pytest.mark.parametrize(("line", "problem"), [
    ("", "not an OpenSSH public key line"),
    ("ssh-ed25519", "not an OpenSSH public key line"),
    ("ssh-dss AAAAB3NzaC1kc3M=", "key type 'ssh-dss' not accepted"),
    ("ssh-ed25519 AAAA%%%", "key data is not base64"),
    (_rsa_key(1024), "RSA key of 1024 bits"),
    ("ssh-rsa " + base64.b64encode(_ssh_string(b"ssh-ed25519")).decode(),
     "key data is not a ssh-rsa key (it says 'ssh-ed25519')"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed").decode(),
     "key data is truncated"),
])
def test_bad_keys_are_refused(line, problem):
    with pytest.raises(Exception) as raised:
        check_public_key(line)
    assert problem in str(raised.value)


def test_lab_key_not_made_yet_says_how_to_make_it(lab, tmp_path, capsys):
    state = tmp_path / "lab-state"
    edit(lab, "group_vars/all/lab.yml", "lab__state_dir: /var/lib/libraryops-lab",
         f"lab__state_dir: {state}")
    write(lab, ACCOUNTS, "---\naccounts__management_users:\n  - name: libops\n"
                         f"    ssh_key_files: [{state}/ssh/id_ed25519.pub]\n")
    assert_problems(lab, capsys, [
        (ACCOUNTS, "accounts__management_users[0].ssh_key_files[0]",
         f"{state}/ssh/id_ed25519.pub: no such file; run `make lab-up` (or `make lab-keys`) "
         "first")])


def test_private_key_given_as_key_file_is_refused_without_printing_it(lab, key_pair, capsys):
    edit(lab, ACCOUNTS, f"{key_pair}.pub", str(key_pair))
    lines = assert_problems(lab, capsys, [
        (ACCOUNTS, "accounts__management_users[0].ssh_key_files[0]",
         f"{key_pair} line 1: key type '-----BEGIN' not accepted")])
    secret_lines = key_pair.read_text().splitlines()[1:-1]
    assert secret_lines
    assert not [s for s in secret_lines if any(s in line for line in lines)]
