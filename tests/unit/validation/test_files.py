"""``make validate`` for the site's files as written: YAML that does not parse, or a vars
file or hosts.yml that is not a mapping, is named by file and line, never echoed.
"""

import pytest
from sites import (
    EAST,
    HOSTS,
    PUBLIC_PC,
    assert_problems,
    edit,
    malformed_group_vars,
    malformed_hosts_file,
    run,
    write,
)


def _duplicate_host_key(site):
    edit(site, HOSTS, "        main-pub-02:\n", "        main-pub-01:\n        main-pub-02:\n")


def _vars_file_not_a_mapping(site):
    write(site, PUBLIC_PC, "---\n- public_pc__patron_user: patron\n")


BAD = {
    "malformed YAML in group_vars": (malformed_group_vars, [
        (EAST, "line 4, column 17", "did not find expected ',' or ']'")]),
    "malformed YAML in hosts.yml": (malformed_hosts_file, [
        (HOSTS, "line 15, column 1", "found character that cannot start any token")]),
    "duplicate key in hosts.yml": (_duplicate_host_key, [
        (HOSTS, "line 14, column 9", "duplicate mapping key 'main-pub-01'")]),
    "vars file not a mapping": (_vars_file_not_a_mapping, [
        (PUBLIC_PC, "file", "not a mapping")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_site_files(case, example, bad_input):
    bad_input(example, BAD[case])


def test_every_malformed_file_is_reported(example, capsys):
    malformed_group_vars(example)
    malformed_hosts_file(example)
    lines = assert_problems(example, capsys, [
        (HOSTS, "line 15, column 1", "cannot start any token"),
        (EAST, "line 4, column 17", "flow sequence"),
    ])
    assert not [line for line in lines if "Traceback" in line]


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
