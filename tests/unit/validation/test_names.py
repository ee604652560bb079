"""``make validate`` for variable names: a name nothing reads, and group_vars or host_vars for
a group or host the inventory does not have.
"""

import pytest
from sites import PUBLIC_PC, edit, write


def _typo_in_a_variable_name(site):
    edit(site, PUBLIC_PC, "public_pc__usb_storage: allowed", "public_pc__usb_storge: blocked")


def _group_vars_for_no_group(site):
    write(site, "group_vars/public_pc/public_pc.yml", "---\npublic_pc__usb_storage: blocked\n")


def _host_vars_for_no_host(site):
    write(site, "host_vars/main-pub-99/public_pc.yml", "---\npublic_pc__usb_storage: blocked\n")


BAD = {
    "typo in a variable's owner prefix": (
        lambda s: write(s, "group_vars/branch_east/typo.yml",
                        "---\nbrnach__timezone: America/Chicago\n"), [
            ("group_vars/branch_east/typo.yml", "brnach__timezone",
             "no role, deploy or check owns brnach__ (a typo of branch__?)")]),
    "typo in a variable name": (_typo_in_a_variable_name, [
        (PUBLIC_PC, "public_pc__usb_storge", "no role, deploy or check reads this variable")]),
    "group_vars for no group": (_group_vars_for_no_group, [
        ("group_vars/public_pc/public_pc.yml", "group_vars.public_pc", "no such group")]),
    "host_vars for no host": (_host_vars_for_no_host, [
        ("host_vars/main-pub-99/public_pc.yml", "host_vars.main-pub-99", "no such host")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_variable_name(case, example, bad_input):
    bad_input(example, BAD[case])
