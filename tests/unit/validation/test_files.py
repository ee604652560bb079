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
