"""``make validate`` for hosts.yml: groups, hosts and connection keys only; each host in one
function group and one branch, with an address no other host has.
"""

import re

import pytest
from sites import EAST, HOSTS, assert_problems, edit, inline_host_var, no_address, run, write


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


def _bad_address(site):
    edit(site, HOSTS, "203.0.113.12", "203.0.113.312")


def _inline_group_vars(site):
    edit(site, HOSTS, "    branch_main:\n",
         "    branch_main:\n      vars:\n        branch__name: Main\n")


def _unknown_group_entry_key(site):
    edit(site, HOSTS, "    wireless_aps:\n      hosts:", "    wireless_aps:\n      host:")


def _no_hosts(site):
    write(site, HOSTS, "---\nall:\n")


def _two_hosts_one_address(site):
    hosts = (site / HOSTS).read_text()
    east = re.search(r"east-pub-01:\s+ansible_host: (\S+)", hosts).group(1)
    edit(site, HOSTS, re.search(r"east-pub-02:\s+ansible_host: \S+", hosts).group(0),
         f"east-pub-02:\n          ansible_host: {east}")


BAD = {
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
    "host without address": (no_address, [
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
    "inline host var": (inline_host_var, [
        (HOSTS, "all.children.public_pcs.hosts.main-pub-01.public_pc__patron_user",
         "variable defined inline in hosts.yml")]),
    "unknown key in a group entry": (_unknown_group_entry_key, [
        (HOSTS, "all.children.wireless_aps.host",
         "unknown key in a group entry (allowed: hosts, children, vars)"),
        (HOSTS, "hosts.east-ap-01", "in no function group"),
        (HOSTS, "hosts.main-ap-01", "in no function group"),
        (HOSTS, "hosts.east-ap-01.ansible_host", "missing"),
        (HOSTS, "hosts.main-ap-01.ansible_host", "missing")]),
    "two hosts one address": (_two_hosts_one_address, [
        (HOSTS, "hosts.east-pub-02.ansible_host", "the same address and port as east-pub-01")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_hosts_file(case, example, bad_input):
    bad_input(example, BAD[case])


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
