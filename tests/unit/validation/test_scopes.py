"""``make validate`` for scopes: a variable one scope owns, defined elsewhere, is named with
where it belongs.
"""

import pytest
from sites import PUBLIC_PC, write


def _time_zone_overridden_in_host_vars(site):
    write(site, "host_vars/east-pub-01/branch.yml", "---\nbranch__timezone: Eastern\n")


def _branch_fact_in_a_function_group(site):
    # public_pcs sorts after branch_main at the same depth: Ansible would let it win, silently.
    with (site / PUBLIC_PC).open("a") as out:
        out.write("branch__catalog_url: https://catalog.example.org/kiosk/\n")


def _site_firewall_rules_in_a_group(site):
    write(site, "group_vars/public_pcs/firewall.yml", "---\nfirewall__rules: {}\n")


def _host_firewall_rules_in_all(site):
    with (site / "group_vars/all/firewall.yml").open("a") as out:
        out.write("firewall__host_rules: {}\n")


BAD = {
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
}


@pytest.mark.parametrize("case", BAD)
def test_bad_scope(case, example, bad_input):
    bad_input(example, BAD[case])
