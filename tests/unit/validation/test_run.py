"""``make validate``: the shipped sites are clean, and every bad input is named by file and key.

Bad sites are copies of a shipped site in tmp_path with one file edited. Each bad-input case
lists every problem line it expects (file relative to the site, key, a piece of the problem), in
the order printed, so a validator that reports too much fails as well as one that misses.
"""

import base64
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sites import EXAMPLE, assert_problems, edit, run, write

from libraryops import clock, paths
from libraryops.validation import run as validation
from libraryops.validation.values import check_public_key

# --- clean sites ----------------------------------------------------------------------------


def test_example_site_is_valid(capsys):
    code, lines = run(EXAMPLE, capsys)
    assert lines == ["validate: inventories/example: 11 hosts, 6 groups: OK"]
    assert code == 0


def test_example_output_as_of_a_date_with_warnings(capsys, monkeypatch):
    """``make validate``'s whole output for the example site, the clock pinned (``NOW=``) to a
    day on which its closure dates run out within four months: the two warnings and the
    summary, exactly."""
    monkeypatch.setenv(clock.NOW_ENV, "2027-09-07T12:00:00Z")
    code, lines = run(EXAMPLE, capsys)
    notice = ("branch__closures: warning: the closure dates end on 2027-12-31, less than 4 months "
              "ahead: next year's public holidays would be opening days (make closures "
              "SITE=<site> suggests them) (allowed: closure dates reaching further ahead)")
    assert lines == [
        f"inventories/example/group_vars/branch_east/hours.yml: {notice}",
        f"inventories/example/group_vars/branch_main/hours.yml: {notice}",
        "validate: inventories/example: 11 hosts, 6 groups: OK (2 warning(s))",
    ]
    assert code == 0


def test_lab_site_is_valid(lab, capsys):
    code, lines = run(lab, capsys)
    assert lines == [f"validate: {lab}: 4 hosts, 5 groups: OK"]
    assert code == 0
    assert validation.validate_site(lab) == []


def test_unknown_site_name_is_a_usage_error(capsys):
    assert validation.main(["no-such-site"]) == 2
    assert "SITE='no-such-site'" in capsys.readouterr().err


# --- bad sites: one edit each -----------------------------------------------------------------

HOSTS = "hosts.yml"
ACCOUNTS = "group_vars/all/accounts.yml"
EAST = "group_vars/branch_east/branch.yml"
PUBLIC_PC = "group_vars/public_pcs/public_pc.yml"
TOWNIT_KEY = """      - >-
        ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7Z31XZmJLs6R+j2AKDIlgLxecz0l2sy8ORWPvjypi/
        townit-oncall@town-hall
"""


def _in_two_function_groups(site):
    edit(site, HOSTS, "    staff_machines:\n      hosts:\n",
         "    staff_machines:\n      hosts:\n        main-pub-01:\n")


def _in_no_function_group(site):
    edit(site, HOSTS, "    branch_main:\n      hosts:\n",
         "    branch_main:\n      hosts:\n"
         "        main-pub-05:\n          ansible_host: 198.51.100.15\n")


def _in_two_branches(site):
    edit(site, HOSTS, "    branch_east:\n      hosts:\n",
         "    branch_east:\n      hosts:\n        main-pub-01:\n")


def _bad_branch_group_name(site):
    edit(site, HOSTS, "    branch_east:", "    branch_East:")


def _no_address(site):
    edit(site, HOSTS, "        east-pub-02:\n          ansible_host: 203.0.113.12\n",
         "        east-pub-02:\n")


def _bad_address(site):
    edit(site, HOSTS, "203.0.113.12", "203.0.113.312")


def _inline_group_vars(site):
    edit(site, HOSTS, "    branch_main:\n",
         "    branch_main:\n      vars:\n        branch__name: Main\n")


def _inline_host_var(site):
    edit(site, HOSTS, "          ansible_host: 198.51.100.11\n",
         "          ansible_host: 198.51.100.11\n          public_pc__patron_user: kiosk\n")


def _unknown_group_entry_key(site):
    edit(site, HOSTS, "    wireless_aps:\n      hosts:", "    wireless_aps:\n      host:")


def _malformed_group_vars(site):
    edit(site, EAST, "branch__name: Riverton East Branch", "branch__name: [Riverton East Branch")


def _malformed_hosts_file(site):
    edit(site, HOSTS, "        main-pub-02:\n", "        main-pub-02:\n\t\n")


def _duplicate_host_key(site):
    edit(site, HOSTS, "        main-pub-02:\n", "        main-pub-01:\n        main-pub-02:\n")


def _vars_file_not_a_mapping(site):
    write(site, PUBLIC_PC, "---\n- public_pc__patron_user: patron\n")


def _not_an_inventory(site):
    edit(site, HOSTS, "        main-ap-01:\n          ansible_host: 198.51.100.31\n"
                      "        east-ap-01:\n          ansible_host: 203.0.113.31\n",
         "        - main-ap-01\n        - east-ap-01\n")


def _empty_management_users(site):
    write(site, ACCOUNTS, "---\naccounts__management_users: []\n")


def _no_management_users(site):
    (site / ACCOUNTS).unlink()


def _management_user_without_name(site):
    edit(site, ACCOUNTS, "  - name: townit\n    comment:", "  - comment:")


def _management_user_without_key(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY, "")


def _management_user_unknown_key(site):
    edit(site, ACCOUNTS, "    comment: Town IT on-call\n",
         "    comment: Town IT\n    shell: /bin/sh\n")


def _connecting_user_not_listed(site):
    edit(site, ACCOUNTS, "  - name: libops\n", "  - name: jreyes\n")


def _key_type_mismatch(site):
    edit(site, ACCOUNTS, TOWNIT_KEY, TOWNIT_KEY.replace("ssh-ed25519", "ecdsa-sha2-nistp256"))


def _key_data_not_base64(site):
    edit(site, ACCOUNTS, TOWNIT_KEY, TOWNIT_KEY.replace("IA7Z31XZ", "IA7Z3!XZ"))


def _key_file_missing(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY,
         "    ssh_key_files:\n      - /nonexistent/townit.pub\n")


def _key_file_relative(site):
    edit(site, ACCOUNTS, "    ssh_keys:\n" + TOWNIT_KEY,
         "    ssh_key_files:\n      - keys/townit.pub\n")


def _unknown_time_zone(site):
    edit(site, EAST, "America/New_York", "America/Riverton")


def _missing_time_zone(site):
    edit(site, EAST, "branch__timezone: America/New_York\n", "")


def _time_zone_overridden_in_host_vars(site):
    write(site, "host_vars/east-pub-01/branch.yml", "---\nbranch__timezone: Eastern\n")


def _catalog_not_http(site):
    edit(site, EAST, "https://catalog.example.org/east/", "ftp://catalog.example.org/east/")


def _catalog_without_host(site):
    edit(site, EAST, "https://catalog.example.org/east/", "https:///east/")


def _branch_fact_in_a_function_group(site):
    # public_pcs sorts after branch_main at the same depth: Ansible would let it win, silently.
    with (site / PUBLIC_PC).open("a") as out:
        out.write("branch__catalog_url: https://catalog.example.org/kiosk/\n")


def _site_firewall_rules_in_a_group(site):
    write(site, "group_vars/public_pcs/firewall.yml", "---\nfirewall__rules: {}\n")


def _host_firewall_rules_in_all(site):
    with (site / "group_vars/all/firewall.yml").open("a") as out:
        out.write("firewall__host_rules: {}\n")


def _typo_in_a_variable_name(site):
    edit(site, PUBLIC_PC, "public_pc__usb_storage: allowed", "public_pc__usb_storge: blocked")


def _group_vars_for_no_group(site):
    write(site, "group_vars/public_pc/public_pc.yml", "---\npublic_pc__usb_storage: blocked\n")


def _host_vars_for_no_host(site):
    write(site, "host_vars/main-pub-99/public_pc.yml", "---\npublic_pc__usb_storage: blocked\n")


def _no_hosts(site):
    write(site, HOSTS, "---\nall:\n")


def _two_hosts_one_address(site):
    hosts = (site / HOSTS).read_text()
    east = re.search(r"east-pub-01:\s+ansible_host: (\S+)", hosts).group(1)
    edit(site, HOSTS, re.search(r"east-pub-02:\s+ansible_host: \S+", hosts).group(0),
         f"east-pub-02:\n          ansible_host: {east}")


def _print_queue_not_ipp(site):
    edit(site, EAST, "ipps://print.riverton.example.org", "lpd://print.riverton.example.org")


def _idle_minutes_zero(site):
    edit(site, PUBLIC_PC, "public_pc__idle_logout_minutes: 20", "public_pc__idle_logout_minutes: 0")


def _idle_warning_too_long(site):
    edit(site, PUBLIC_PC, "public_pc__idle_logout_minutes: 20", "public_pc__idle_logout_minutes: 1")


def _unknown_usb_policy(site):
    edit(site, PUBLIC_PC, "public_pc__usb_storage: allowed", "public_pc__usb_storage: readonly")


def _empty_branch_name(site):
    edit(site, EAST, "branch__name: Riverton East Branch", 'branch__name: ""')


def _patron_is_root(site):
    edit(site, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user: root")


def _patron_not_a_user_name(site):
    edit(site, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user: Patron PC")


def _unknown_power_actions(site):
    edit(site, PUBLIC_PC, "public_pc__power_actions: act", "public_pc__power_actions: off")


BAD_EXAMPLES: dict[str, tuple[Callable[[Path], None], list[tuple[str, str, str]]]] = {
    "host in two function groups": (_in_two_function_groups, [
        (HOSTS, "hosts.main-pub-01", "in 2 function groups: public_pcs, staff_machines "
                                     "(allowed: exactly one of public_pcs, staff_machines, "
                                     "wireless_aps)")]),
    "host in no function group": (_in_no_function_group, [
        (HOSTS, "hosts.main-pub-05", "in no function group")]),
    "host in two branches": (_in_two_branches, [
        (HOSTS, "hosts.main-pub-01", "in 2 branch groups: branch_east, branch_main")]),
    "branch group name": (_bad_branch_group_name, [
        (HOSTS, "groups.branch_East", "not a branch group name"),
        (HOSTS, "hosts.east-ap-01", "in no branch group (allowed: exactly one of branch_main)"),
        (HOSTS, "hosts.east-pub-01", "in no branch group"),
        (HOSTS, "hosts.east-pub-02", "in no branch group"),
        (HOSTS, "hosts.east-staff-01", "in no branch group"),
        (EAST, "group_vars.branch_east", "no such group in hosts.yml")]),
    "no hosts": (_no_hosts, [(HOSTS, "all", "the site has no hosts")]),
    "host without address": (_no_address, [
        (HOSTS, "hosts.east-pub-02.ansible_host", "missing")]),
    "address neither IP nor host name": (_bad_address, [
        (HOSTS, "hosts.east-pub-02.ansible_host", "neither an IP address nor a host name")]),
    "address of every machine": (lambda s: edit(s, HOSTS, "203.0.113.12", "0.0.0.0"), [
        (HOSTS, "hosts.east-pub-02.ansible_host", "an address that is not one machine "
                                                  "(unspecified or multicast) (allowed: an IP "
                                                  "address or a host name (not 0.0.0.0, :: nor "
                                                  "multicast))")]),
    "multicast address": (lambda s: edit(s, HOSTS, "203.0.113.12", "ff02::1"), [
        (HOSTS, "hosts.east-pub-02.ansible_host", "not one machine")]),
    "inline group vars": (_inline_group_vars, [
        (HOSTS, "all.children.branch_main.vars.branch__name",
         "variable defined inline in hosts.yml (allowed: per-group data in "
         "group_vars/branch_main/<role>.yml)")]),
    "inline host var": (_inline_host_var, [
        (HOSTS, "all.children.public_pcs.hosts.main-pub-01.public_pc__patron_user",
         "variable defined inline in hosts.yml")]),
    "unknown key in a group entry": (_unknown_group_entry_key, [
        (HOSTS, "all.children.wireless_aps.host",
         "unknown key in a group entry (allowed: hosts, children, vars)"),
        (HOSTS, "hosts.east-ap-01", "in no function group"),
        (HOSTS, "hosts.main-ap-01", "in no function group"),
        (HOSTS, "hosts.east-ap-01.ansible_host", "missing"),
        (HOSTS, "hosts.main-ap-01.ansible_host", "missing")]),
    "malformed YAML in group_vars": (_malformed_group_vars, [
        (EAST, "line 4, column 17", "did not find expected ',' or ']'")]),
    "malformed YAML in hosts.yml": (_malformed_hosts_file, [
        (HOSTS, "line 15, column 1", "found character that cannot start any token")]),
    "duplicate key in hosts.yml": (_duplicate_host_key, [
        (HOSTS, "line 14, column 9", "duplicate mapping key 'main-pub-01'")]),
    "vars file not a mapping": (_vars_file_not_a_mapping, [
        (PUBLIC_PC, "file", "not a mapping")]),
    "inventory Ansible cannot read": (_not_an_inventory, [
        (HOSTS, "ansible-inventory", "Invalid \"hosts\" entry for \"wireless_aps\" group")]),
    "management users empty": (_empty_management_users, [
        (ACCOUNTS, "accounts__management_users", "at least 1 item")]),
    "management users missing": (_no_management_users, [
        (ACCOUNTS, "accounts__management_users", "missing")]),
    "management user without name": (_management_user_without_name, [
        (ACCOUNTS, "accounts__management_users[1].name", "missing")]),
    "management user without key": (_management_user_without_key, [
        (ACCOUNTS, "accounts__management_users[1]", "no SSH key")]),
    "management user unknown key": (_management_user_unknown_key, [
        (ACCOUNTS, "accounts__management_users[1].shell",
         "unknown key (allowed: name, comment, ssh_keys, ssh_key_files)")]),
    "connecting user not a management user": (_connecting_user_not_listed, [
        (ACCOUNTS, "accounts__management_users", "(allowed: a list including libops)")]),
    "key type does not match key data": (_key_type_mismatch, [
        (ACCOUNTS, "accounts__management_users[1].ssh_keys[0]",
         "key data is not a ecdsa-sha2-nistp256 key (it says 'ssh-ed25519')")]),
    "key data not base64": (_key_data_not_base64, [
        (ACCOUNTS, "accounts__management_users[1].ssh_keys[0]", "key data is not base64")]),
    "key file missing": (_key_file_missing, [
        (ACCOUNTS, "accounts__management_users[1].ssh_key_files[0]",
         "/nonexistent/townit.pub: no such file (allowed: an existing file")]),
    "key file relative": (_key_file_relative, [
        (ACCOUNTS, "accounts__management_users[1].ssh_key_files[0]", "relative path")]),
    "unknown time zone": (_unknown_time_zone, [
        (EAST, "branch__timezone", "not an IANA time zone")]),
    "missing time zone": (_missing_time_zone, [
        (EAST, "branch__timezone", "missing (allowed: an IANA Area/Location name")]),
    "fixed-offset time zone": (lambda s: edit(s, EAST, "America/New_York", "EST"), [
        (EAST, "branch__timezone", "a legacy or fixed-offset zone name (daylight saving would "
                                   "be wrong or deprecated); use the Area/Location name (allowed:"
                                   " an IANA Area/Location name, e.g. America/New_York, or UTC)")]),
    "deprecated time zone alias": (lambda s: edit(s, EAST, "America/New_York", "US/Eastern"), [
        (EAST, "branch__timezone", "a legacy or fixed-offset zone name")]),
    "time zone overridden in host_vars": (_time_zone_overridden_in_host_vars, [
        ("host_vars/east-pub-01/branch.yml", "branch__timezone", "not an IANA time zone"),
        ("host_vars/east-pub-01/branch.yml", "branch__timezone", "defined for host east-pub-01, "
         "outside its scope: it would silently override or replace the value where it belongs "
         "(allowed: group_vars/branch_<slug>/ (one branch)")]),
    "branch fact in a function group": (_branch_fact_in_a_function_group, [
        (PUBLIC_PC, "branch__catalog_url", "defined for group public_pcs, outside its scope")]),
    "site firewall rules in a group": (_site_firewall_rules_in_a_group, [
        ("group_vars/public_pcs/firewall.yml", "firewall__rules",
         "defined for group public_pcs, outside its scope: it would silently override or "
         "replace the value where it belongs (allowed: group_vars/all/firewall.yml; a group's "
         "rules are firewall__group_rules")]),
    "host firewall rules for every host": (_host_firewall_rules_in_all, [
        ("group_vars/all/firewall.yml", "firewall__host_rules", "defined for group all")]),
    "same management account twice": (
        lambda s: edit(s, ACCOUNTS, "  - name: townit", "  - name: libops"), [
            (ACCOUNTS, "accounts__management_users", "lists libops more than once: the accounts "
             "role would keep only the last entry's keys (a lockout)")]),
    "patron user is a management account": (
        lambda s: edit(s, PUBLIC_PC, "public_pc__patron_user: patron",
                       "public_pc__patron_user: townit"), [
            (PUBLIC_PC, "public_pc__patron_user", "a management account: its home would be "
                                                  "wiped")]),
    "a key with an empty value": (
        lambda s: edit(s, PUBLIC_PC, "public_pc__patron_user: patron", "public_pc__patron_user:"),
        [(PUBLIC_PC, "public_pc__patron_user", "no value (the key is there, its value empty) "
                                               "(allowed: a Linux user name")]),
    "wireless declaration in a function group": (
        lambda s: write(s, "group_vars/wireless_aps/wireless.yml",
                        "---\nwireless__country_code: CA\n"), [
            ("group_vars/wireless_aps/wireless.yml", "wireless__country_code",
             "defined for group wireless_aps, outside its scope: it would silently override or "
             "replace the value where it belongs (allowed: group_vars/all/wireless.yml")]),
    "public PC setting in another function group": (
        lambda s: write(s, "group_vars/staff_machines/public_pc.yml",
                        "---\npublic_pc__idle_logout_minutes: 10\n"), [
            ("group_vars/staff_machines/public_pc.yml", "public_pc__idle_logout_minutes",
             "defined for group staff_machines, outside its scope")]),
    "typo in a variable's owner prefix": (
        lambda s: write(s, "group_vars/branch_east/typo.yml",
                        "---\nbrnach__timezone: America/Chicago\n"), [
            ("group_vars/branch_east/typo.yml", "brnach__timezone",
             "no role, deploy or check owns brnach__ (a typo of branch__?)")]),
    "catalog URL with a space": (
        lambda s: edit(s, EAST, "https://catalog.example.org/east/",
                       "https://catalog.example.org/east branch/"), [
            (EAST, "branch__catalog_url", "it contains a space or control character")]),
    "catalog URL not http": (_catalog_not_http, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")]),
    "typo in a variable name": (_typo_in_a_variable_name, [
        (PUBLIC_PC, "public_pc__usb_storge", "no role, deploy or check reads this variable")]),
    "group_vars for no group": (_group_vars_for_no_group, [
        ("group_vars/public_pc/public_pc.yml", "group_vars.public_pc", "no such group")]),
    "host_vars for no host": (_host_vars_for_no_host, [
        ("host_vars/main-pub-99/public_pc.yml", "host_vars.main-pub-99", "no such host")]),
    "two hosts one address": (_two_hosts_one_address, [
        (HOSTS, "hosts.east-pub-02.ansible_host", "the same address and port as east-pub-01")]),
    "print queue not ipp": (_print_queue_not_ipp, [
        (EAST, "branch__print_queue_uri", "not an ipp(s) URL with a host")]),
    "idle minutes zero": (_idle_minutes_zero, [
        (PUBLIC_PC, "public_pc__idle_logout_minutes", "greater than or equal to 1")]),
    "idle warning as long as the idle time": (_idle_warning_too_long, [
        (PUBLIC_PC, "public_pc__idle_warning_seconds", "as long as the idle time")]),
    "unknown USB policy": (_unknown_usb_policy, [
        (PUBLIC_PC, "public_pc__usb_storage", "")]),
    "catalog URL without host": (_catalog_without_host, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")]),
    "empty branch name": (_empty_branch_name, [
        (EAST, "branch__name", "at least 1 character")]),
    "patron user root": (_patron_is_root, [
        (PUBLIC_PC, "public_pc__patron_user", "root is not allowed here")]),
    "patron user not a user name": (_patron_not_a_user_name, [
        (PUBLIC_PC, "public_pc__patron_user", "not a Linux user name")]),
    "unknown power actions mode": (_unknown_power_actions, [
        (PUBLIC_PC, "public_pc__power_actions", "(allowed: act (power off and set the RTC wake "
                                                "alarm) or log (only log them))")]),
}


@pytest.mark.parametrize("case", BAD_EXAMPLES)
def test_bad_example_site(case, example, capsys):
    spoil, expected = BAD_EXAMPLES[case]
    spoil(example)
    assert_problems(example, capsys, expected)


def test_every_problem_is_reported_in_one_run(example, capsys):
    _no_address(example)
    _inline_host_var(example)
    _unknown_time_zone(example)
    _patron_is_root(example)
    assert_problems(example, capsys, [
        (HOSTS, "all.children.public_pcs.hosts.main-pub-01.public_pc__patron_user", "inline"),
        (HOSTS, "hosts.east-pub-02.ansible_host", "missing"),
        (EAST, "branch__timezone", "not an IANA time zone"),
        (PUBLIC_PC, "public_pc__patron_user", "root is not allowed here"),
    ])


def test_every_malformed_file_is_reported(example, capsys):
    _malformed_group_vars(example)
    _malformed_hosts_file(example)
    lines = assert_problems(example, capsys, [
        (HOSTS, "line 15, column 1", "cannot start any token"),
        (EAST, "line 4, column 17", "flow sequence"),
    ])
    assert not [line for line in lines if "Traceback" in line]


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


def test_vaulted_value_is_never_printed(example, capsys):
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    plaintext = "ftp://patron-token-1234@catalog.example.org/east/"
    secret = VaultSecret((example / "vault-password.txt").read_bytes().strip())
    ciphertext = VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)]).encrypt(plaintext).decode()
    vaulted = "!vault |\n" + "".join(f"  {line}\n" for line in ciphertext.splitlines())
    edit(example, EAST, "https://catalog.example.org/east/\n", vaulted)
    lines = assert_problems(example, capsys, [
        (EAST, "branch__catalog_url", "not an http(s) URL with a host")])
    output = "\n".join(lines)
    assert "patron-token" not in output
    assert not [c for c in ciphertext.splitlines()[1:] if c in output]


# The example site's encrypted file and inline !vault values, as (file, key).
VAULTED = [("group_vars/all/wireless_vault.yml", "file"),
           ("group_vars/monitoring/vault.yml", "monitoring__smtp_auth_password"),
           ("group_vars/staff_machines/vault.yml", "staff_workstation__ad_join_password")]


def test_damaged_inline_vault_value_names_its_file_and_key(example, capsys):
    """Before: the adapter's error named a host of hosts.yml, not the file holding the value."""
    file = example / VAULTED[1][0]
    lines = file.read_text().splitlines()
    body = next(i for i, line in enumerate(lines) if "$ANSIBLE_VAULT" in line) + 1
    damaged = lines[body].strip()
    lines[body] = lines[body].replace(damaged, "zz" + damaged[2:])
    file.write_text("\n".join(lines) + "\n")
    output = "\n".join(assert_problems(example, capsys, [
        (VAULTED[1][0], VAULTED[1][1], "does not open it")]))
    assert damaged[2:] not in output
    assert "vault-password.txt" in output


def test_wrong_vault_password_names_every_encrypted_value_and_the_password_file(
        example, tmp_path, capsys, monkeypatch):
    wrong = tmp_path / "other-password.txt"
    wrong.write_text("not the site's password\n")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(wrong))
    output = "\n".join(assert_problems(example, capsys, [
        (file, key, f"the vault password in {wrong} does not open it") for file, key in VAULTED]))
    assert "not the site's password" not in output


def test_missing_vault_password_file_is_named(example, capsys):
    (example / "vault-password.txt").unlink()
    assert_problems(example, capsys, [
        (file, key, f"no vault password file (allowed: {example / 'vault-password.txt'}")
        for file, key in VAULTED])


@pytest.mark.parametrize("command", ["validate", "make converge", "make bootstrap"])
def test_bad_site_contacts_no_host(example, tmp_path, command):
    """A bad site whose hosts all point at a listener here: validation fails and the targets that
    would change hosts stop before any connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        hosts = (example / HOSTS).read_text()
        hosts = re.sub(r"ansible_host: \S+",
                       f"ansible_host: 127.0.0.1\n          ansible_port: {port}", hosts)
        write(example, HOSTS, hosts)
        _unknown_time_zone(example)
        site = shutil.copytree(example, tmp_path / "badsite")  # not a documentation-only name
        argv = ([sys.executable, "-m", "libraryops.validation", str(site)] if command == "validate"
                else [*command.split(), f"INVENTORY={site}", "SITE=badsite"])
        proc = subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, timeout=120,
                              check=False)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("/", "validate:"))]
    assert (f"{site / EAST}: branch__timezone: not an IANA time zone "
            "(allowed: an IANA Area/Location name, e.g. America/New_York, or UTC)") in lines
    # (a warning may join the count: no SSH identity to prove on this machine)
    assert re.fullmatch(r"validate: \d+ problem\(s\)( \(\d+ warning\(s\)\))?; nothing was "
                        r"contacted", lines[-1]), lines[-1]
    assert "Traceback" not in proc.stderr


# --- SSH public keys ----------------------------------------------------------------------------


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


def test_a_syntax_error_in_a_vars_file_never_echoes_its_lines(example, capsys):
    write(example, "group_vars/all/zz.yml", '---\nx__password: "Hunter2Library\n  y: [1\n')
    code, lines = run(example, capsys)
    assert code == 1 and "Hunter2Library" not in "\n".join(lines)
    assert lines[0].startswith(f"{example}/group_vars/all/zz.yml: line ")


def test_a_tab_in_a_vars_file_is_named(example, capsys):
    write(example, "group_vars/all/zz.yml", "---\ncommon__x:\n\tfoo: 1\n")
    code, lines = run(example, capsys)
    assert code == 1 and "a tab cannot start a token" in lines[0]


@pytest.mark.parametrize("text", ["---\n- all\n- hosts\n", "---\njust text\n", "---\n"])
def test_a_hosts_file_that_is_not_a_mapping_is_one_clear_problem(example, capsys, text):
    write(example, "hosts.yml", text)
    code, lines = run(example, capsys)
    assert code == 1
    assert lines[:-1] == [f"{example}/hosts.yml: file: not a mapping (allowed: a mapping of group "
                          "names to {hosts, children, vars}, starting with all:)"]


@pytest.mark.parametrize(("first", "second"), [
    ("2001:db8::11", "2001:0db8:0:0:0:0:0:11"),
    ("pc1.riverton.example.org", "PC1.Riverton.example.org."),
    ("198.51.100.11", "::ffff:198.51.100.11")])
def test_two_hosts_at_one_address_in_two_spellings_are_refused(example, capsys, first, second):
    edit(example, "hosts.yml", "ansible_host: 198.51.100.11", f"ansible_host: '{first}'")
    edit(example, "hosts.yml", "ansible_host: 198.51.100.12", f"ansible_host: '{second}'")
    assert_problems(example, capsys, [
        ("hosts.yml", "hosts.main-pub-02.ansible_host",
         "the same address and port as main-pub-01")])


@pytest.mark.parametrize("name", ["Main-Pub-09", "main pub 09", "main_pub_09", "-main"])
def test_a_host_name_that_is_not_a_lower_case_dns_label_is_refused(example, capsys, name):
    edit(example, "hosts.yml", "        main-pub-01:\n", f"        '{name}':\n")
    code, lines = run(example, capsys)
    assert code == 1
    assert any(line.startswith(f"{example}/hosts.yml: ") and "not a host name" in line
               for line in lines), lines
