"""``make validate`` for the baseline roles' data: each bad input is named by file and key.

Bad sites are copies of a shipped site with one edit (helpers from tests/unit/sites.py); each case
lists every problem line expected, in order.
"""

import pytest
from sites import assert_problems, edit, write

from libraryops import firewall
from libraryops.validation.sshd import pyinfra_key_exchanges

FIREWALL = "group_vars/all/firewall.yml"
STAFF_FIREWALL = "group_vars/staff_machines/firewall.yml"
TIMESYNC = "group_vars/all/timesync.yml"
SSHD = "group_vars/all/sshd.yml"
STAFF = "group_vars/staff_machines/staff_workstation.yml"
UPDATES = "group_vars/all/updates.yml"




BAD = {
    "firewall port outside 1-65535": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"70000/tcp":'),
        [(FIREWALL, "firewall__rules.70000/tcp", "port 70000 outside 1-65535 (allowed: "
                                                 "<port>/<protocol>")]),
    "firewall port zero": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"0/tcp":'),
        [(FIREWALL, "firewall__rules.0/tcp", "port 0 outside 1-65535")]),
    "firewall key without protocol": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"9100":'),
        [(FIREWALL, "firewall__rules.9100", "not <port>/<protocol>")]),
    "firewall unknown protocol": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"9100/icmp":'),
        [(FIREWALL, "firewall__rules.9100/icmp", "protocol 'icmp' unknown (allowed: tcp, udp)")]),
    "firewall unknown action": (
        lambda s: edit(s, FIREWALL, "    sources: [192.0.2.0/24]\n",
                       "    action: allow\n    sources: [192.0.2.0/24]\n"),
        [(FIREWALL, "firewall__rules.9100/tcp.action", "input should be 'accept', 'drop' or "
                                                       "'reject'")]),
    "firewall source not a network": (
        lambda s: edit(s, FIREWALL, "[192.0.2.0/24]", "[192.0.2.300/24]"),
        [(FIREWALL, "firewall__rules.9100/tcp.sources.0", "not a network address")]),
    "firewall same port, two actions": (
        lambda s: edit(s, STAFF_FIREWALL, '"9101/tcp":\n', '"9100/tcp":\n    action: drop\n'),
        [(STAFF_FIREWALL, "firewall__group_rules.9100/tcp",
          f"action drop conflicts with accept in {{site}}/{FIREWALL}: firewall__rules "
          "(allowed: one action per port/protocol")]),
    "firewall group rules from two groups of one host": (
        lambda s: write(s, "group_vars/branch_east/firewall.yml",
                        '---\nfirewall__group_rules:\n  "8080/tcp": {sources: [10.0.0.0/8]}\n'),
        [(STAFF_FIREWALL, "firewall__group_rules", "east-staff-01 is in 2 groups that define it "
          "(branch_east, staff_machines): only one applies, the others are silently ignored")]),
    "firewall drops SSH": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":\n', '"22/tcp":\n    action: reject\n'),
        [(FIREWALL, "firewall__rules.22/tcp", "rejects SSH, the port the engines connect to")]),
    "NTP list empty": (
        lambda s: write(s, TIMESYNC, "---\ntimesync__ntp_servers: []\n"),
        [(TIMESYNC, "timesync__ntp_servers", "at least 1 item")]),
    "NTP list missing": (
        lambda s: (s / TIMESYNC).unlink(),
        [(TIMESYNC, "timesync__ntp_servers", "missing")]),
    "NTP server not an address": (
        lambda s: edit(s, TIMESYNC, "ntp2.riverton.example.org", "ntp 2"),
        [(TIMESYNC, "timesync__ntp_servers[1]", "neither an IP address nor a host name")]),
    "download delay over half a branch's patch window": (  # east: 60 minutes, main: 120
        lambda s: edit(s, UPDATES, "delay_minutes: 20", "delay_minutes: 45"),
        [(UPDATES, "updates__download_randomized_delay_minutes", "leaves less than half of "
          "Riverton East Branch's 60-minute patch window for installing and rebooting "
          "(allowed: 0-30 (half of")]),
    # Exposure is judged by meaning: the union of the sources against the public address space.
    "firewall rule open to the whole IPv4 Internet": (
        lambda s: edit(s, FIREWALL, "[192.0.2.0/24]", "[0.0.0.0/0]"),
        [(FIREWALL, "firewall__rules.9100/tcp.sources", "together the sources reach the "
          "Internet in IPv4")]),
    "firewall rule open to the Internet in pieces": (
        lambda s: edit(s, FIREWALL, "[192.0.2.0/24]", "[0.0.0.0/1, 128.0.0.0/1, '::/0']"),
        [(FIREWALL, "firewall__rules.9100/tcp.sources", "together the sources reach the "
          "Internet in IPv4 (over 2^31 public addresses) and IPv6 (over 2^")]),
    "firewall SSH rule without sources": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":\n', '"22/tcp": {}\n  "9100/tcp":\n'),
        [(FIREWALL, "firewall__rules.22/tcp.sources", "missing or empty: the rule would "
          "accept everyone")]),
    "firewall rule with an empty source list": (
        lambda s: edit(s, FIREWALL, "[192.0.2.0/24]", "[]"),
        [(FIREWALL, "firewall__rules.9100/tcp.sources", "missing or empty")]),
    "management networks covering the Internet": (
        lambda s: edit(s, SSHD, "[198.51.100.0/28, 192.0.2.0/24]", "[0.0.0.0/0]"),
        [(SSHD, "sshd__management_networks", "together the networks reach the Internet in "
          "IPv4 (over 2^31 public addresses): SSH would answer anyone")]),
    "management networks covering the Internet in pieces": (
        lambda s: edit(s, SSHD, "[198.51.100.0/28, 192.0.2.0/24]",
                       "[0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/2]"),
        [(SSHD, "sshd__management_networks", "reach the Internet")]),
    "firewall port with a leading zero": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"09100/tcp":'),
        [(FIREWALL, "firewall__rules.09100/tcp", "port 09100 has a leading zero (the same port "
                                                 "as 9100)")]),
    "update schedule left to the role's night-time defaults": (
        lambda s: write(s, UPDATES, "---\nupdates__automatic_reboot: true\n"),
        [(UPDATES, key, "missing") for key in (
            "updates__download_on_calendar", "updates__upgrade_on_calendar",
            "updates__reboot_time", "updates__catch_up_missed_runs")]),
    "reboot time outside the patch window": (  # main closes 17:00-21:00, east 17:00-20:00
        lambda s: edit(s, UPDATES, "reboot_time: now", 'reboot_time: "12:00"'),
        [(UPDATES, "updates__reboot_time", "outside Riverton East Branch's patch window on "
          "monday, tuesday, wednesday, thursday, friday, saturday: the reboot would not happen "
          "while the building is closed"),
         (UPDATES, "updates__reboot_time", "outside Riverton Main Library's patch window on ")]),
    "download delay negative": (
        lambda s: edit(s, UPDATES, "delay_minutes: 20", "delay_minutes: -5"),
        [(UPDATES, "updates__download_randomized_delay_minutes", "greater than or equal to 0")]),
    "reboot time neither HH:MM nor now": (
        lambda s: edit(s, UPDATES, "reboot_time: now", "reboot_time: \"09:60\""),
        [(UPDATES, "updates__reboot_time", "should match pattern")]),
    "management networks empty": (
        lambda s: edit(s, SSHD, "[198.51.100.0/28, 192.0.2.0/24]", "[]"),
        [(SSHD, "sshd__management_networks", "at least 1 item")]),
    "management network with host bits": (
        lambda s: edit(s, SSHD, "198.51.100.0/28", "198.51.100.1/28"),
        [(SSHD, "sshd__management_networks[0]", "not a network address")]),
    "sshd does not allow the management accounts' group": (
        lambda s: edit(s, SSHD, "[root, libraryops-admin]", "[root]"),
        [(SSHD, "sshd__allow_groups", "does not allow libraryops-admin, the group of libops, "
          "the account the engines connect as: converging would lock the manager out")]),
    "sshd allows no group": (
        lambda s: edit(s, SSHD, "[root, libraryops-admin]", "[]"),
        [(SSHD, "sshd__allow_groups", "at least 1 item")]),
    "shared printers with no client network named": (
        lambda s: write(s, "group_vars/staff_machines/printing.yml",
                        "---\nstaff_workstation__share_printers: true\n"),
        [("group_vars/staff_machines/staff_workstation.yml", "staff_workstation__printer_clients",
          "empty while staff_workstation__share_printers is true: CUPS would answer anyone")]),
    "shared printers open to the Internet": (
        lambda s: write(s, "group_vars/staff_machines/printing.yml",
                        "---\nstaff_workstation__share_printers: true\n"
                        "staff_workstation__printer_clients: [0.0.0.0/0]\n"),
        [("group_vars/staff_machines/printing.yml", "staff_workstation__printer_clients",
          "together the networks reach the Internet")]),
    "printer URI not IPP": (
        lambda s: edit(s, STAFF, "ipps://print.riverton.example.org/printers/staff-workroom",
                       "lpd://print.riverton.example.org/staff-workroom"),
        [(STAFF, "staff_workstation__printers[0].uri", "not an ipp(s) URL with a host")]),
    "AD domain upper case": (
        lambda s: edit(s, STAFF, "ad_domain: ad.riverton.example.org",
                       "ad_domain: AD.RIVERTON.EXAMPLE.ORG"),
        [(STAFF, "staff_workstation__ad_domain", "not a lower-case DNS domain name")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_baseline_data(case, example, capsys):
    spoil, expected = BAD[case]
    spoil(example)
    expected = [(f, k, t.replace("{site}", str(example))) for f, k, t in expected]
    assert_problems(example, capsys, expected)


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


# --- the merge itself (shared by validate and the firewall role's filter) ----------------------


def test_same_action_merges_sources_and_drop_from_anywhere_wins():
    rules, problems = firewall.merge([
        ("a", {"22/tcp": {"sources": ["10.0.0.0/24"], "comment": "ssh"}}),
        ("b", {"22/tcp": {"sources": ["10.0.1.0/24", "2001:db8::/64"]},
               "53/udp": {"action": "drop"}}),
        ("c", {"53/udp": {"action": "drop", "sources": ["10.0.0.0/8"]}}),
    ])
    assert problems == []
    assert [(r.port, r.proto) for r in rules] == [(22, "tcp"), (53, "udp")]
    assert rules[0].ipv4 == ["10.0.0.0/24", "10.0.1.0/24"] and rules[0].ipv6 == ["2001:db8::/64"]
    assert rules[0].declared_by == ["a", "b"] and rules[0].as_dict()["comment"] == "ssh"
    assert rules[1].anywhere and rules[1].ipv4 == []
    assert firewall.covers(rules, 22, "tcp", "10.0.1.5")
    assert not firewall.covers(rules, 22, "tcp", "10.0.2.5")
    assert not firewall.covers(rules, 53, "udp", "192.0.2.1")


@pytest.mark.parametrize("sources", [
    [], ["0.0.0.0/0"], ["::/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["1.0.0.0/8"],
    [f"{n}.0.0.0/8" for n in range(1, 224) if n not in (10, 127)]])
def test_accept_reaching_the_internet_is_refused_by_the_role_filter_too(sources, load_module):
    from ansible.errors import AnsibleFilterError

    from libraryops import paths

    plugin = load_module(paths.REPO / "roles" / "firewall" / "filter_plugins" / "firewall.py")
    with pytest.raises(AnsibleFilterError, match="22/tcp.sources: (missing or empty|together)"):
        plugin.firewall_rules({}, {}, {}, {"sshd": {"22/tcp": {"sources": sources}}})


def test_sources_are_judged_as_the_union_of_every_declaration():
    _, problems = firewall.merge([("firewall__rules", {"22/tcp": {"sources": ["93.184.0.0/16"]}}),
                                  ("firewall__host_rules", {"22/tcp": {"sources": [
                                      "93.185.0.0/16", "10.0.0.0/8"]}})])
    assert [(p.file, p.key) for p in problems] == [("firewall__host_rules", "22/tcp.sources")]
    assert "IPv4 (over 2^17 public addresses)" in problems[0].problem


@pytest.mark.parametrize("sources", [
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"],  # private: none of it public
    ["198.51.100.0/24", "203.0.113.7/32", "2001:db8::/32"],  # documentation ranges
    ["93.184.0.0/16"], ["2a00:1450::/32"]])  # the widest public blocks allowed
def test_narrow_or_private_sources_are_accepted(sources):
    assert firewall.merge([("a", {"22/tcp": {"sources": sources}})])[1] == []


def test_conflict_names_both_declarers_and_keeps_the_first():
    rules, problems = firewall.merge([("sshd", {"22/tcp": {"sources": ["10.0.0.0/24"]}}),
                                      ("firewall__host_rules", {"22/tcp": {"action": "drop"}})])
    assert [r.action for r in rules] == ["accept"]
    assert [(p.file, p.key) for p in problems] == [("firewall__host_rules", "22/tcp")]
    assert "conflicts with accept declared by sshd" in problems[0].problem


def test_comment_cannot_break_out_of_the_nft_string():
    _, problems = firewall.merge([("a", {"80/tcp": {"comment": 'x" accept'}})])
    assert [(p.key, p.problem) for p in problems] == [
        ("80/tcp.comment", "may not contain double quotes, backslashes or line breaks")]


def test_role_filter_merges_by_declarer_and_refuses_conflicts(load_module):
    from ansible.errors import AnsibleFilterError

    from libraryops import paths

    plugin = load_module(paths.REPO / "roles" / "firewall" / "filter_plugins" / "firewall.py")
    plan = plugin.firewall_rules({"9100/tcp": {"sources": ["192.0.2.0/24"]}}, {}, {},
                                 {"sshd": {"22/tcp": {"sources": ["10.123.0.0/24"]}}})
    assert [(r["port"], r["declared_by"]) for r in plan] == [
        (22, ["firewall__dependent_rules.sshd"]), (9100, ["firewall__rules"])]
    assert plugin.firewall_accepts(plan, 22, "10.123.0.1")
    assert not plugin.firewall_accepts(plan, 22, "192.0.2.1")
    with pytest.raises(AnsibleFilterError, match="firewall__dependent_rules.sshd: 22/tcp: action "
                                                 "accept conflicts with drop declared by "
                                                 "firewall__host_rules"):
        plugin.firewall_rules({}, {}, {"22/tcp": {"action": "drop"}},
                              {"sshd": {"22/tcp": {"sources": ["10.123.0.0/24"]}}})


@pytest.mark.parametrize(("closing", "reboot_time", "ok"), [
    ("20:00", "20:30", True), ("20:00", "21:44", True),  # window 20:15-21:45, Monday-Saturday
    ("20:00", "20:14", False), ("20:00", "21:45", False), ("20:00", "03:00", False),
    ("23:00", "00:20", True), ("23:00", "23:10", False)])  # window 23:15-00:45, past midnight
def test_a_fixed_reboot_time_must_be_inside_every_opening_days_patch_window(
        closing, reboot_time, ok):
    from pydantic import ValidationError

    from libraryops.hours import WEEKDAYS
    from libraryops.validation.updates import UpdatesModel

    hostvars = {
        "branch__timezone": "America/New_York",
        "branch__hours": {day: [["09:00", closing]] for day in WEEKDAYS[:6]} | {"sunday": []},
        "branch__wake_lead_minutes": 30, "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90, "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 120, "updates__automatic_reboot": True,
        "updates__download_on_calendar": ["*-*-* 20:15"],
        "updates__upgrade_on_calendar": ["*-*-* 20:35"],
        "updates__catch_up_missed_runs": False, "updates__reboot_time": reboot_time}
    if ok:
        UpdatesModel.model_validate(hostvars, context=hostvars)
    else:
        with pytest.raises(ValidationError, match="outside the branch's patch window on monday, "
                                                  "tuesday, wednesday, thursday, friday, "
                                                  "saturday:"):
            UpdatesModel.model_validate(hostvars, context=hostvars)


@pytest.mark.parametrize("key", ["", " "])
def test_an_empty_firewall_key_is_still_named(key):  # found by tests/unit/properties
    _, problems = firewall.merge([("firewall__rules", {key: None})])
    assert [p.key for p in problems] == [repr(key)]


def test_a_key_with_control_characters_stays_one_inert_line():  # found by tests/unit/properties
    _, problems = firewall.merge([("firewall__rules", {"\x1b\x85": None})])
    assert problems
    for problem in problems:
        assert len(str(problem).splitlines()) == 1 and "\x1b" not in str(problem)


# --- one SSH port: sshd__port feeds the drop-in, the firewall rule and validation -------------


def test_sshd_elsewhere_than_the_engines_connect_is_refused(example, capsys):
    edit(example, SSHD, "sshd__password_authentication: false\n",
         "sshd__password_authentication: false\nsshd__port: 2222\n")
    assert_problems(example, capsys, [
        (SSHD, "sshd__port", "sshd would listen on 2222, but the engines connect to 22 "
                             "(ansible_port): converging would lock the manager out (allowed: "
                             "22, or ansible_port set to the new port as well)")])


def test_the_engines_on_another_port_than_the_roles_default_is_refused(example, capsys):
    write(example, "group_vars/all/connection.yml",
          (example / "group_vars/all/connection.yml").read_text() + "ansible_port: 2222\n")
    assert_problems(example, capsys, [
        (SSHD, "sshd__port", "sshd would listen on 22 (the role's default), but the engines "
                             "connect to 2222")])


def test_the_firewall_check_follows_sshd_port(example, capsys):
    edit(example, SSHD, "sshd__password_authentication: false\n",
         "sshd__password_authentication: false\nsshd__port: 2222\n")
    write(example, "group_vars/all/connection.yml",
          (example / "group_vars/all/connection.yml").read_text() + "ansible_port: 2222\n")
    edit(example, FIREWALL, '"9100/tcp":', '"2222/tcp":\n    action: drop\n  "9100/tcp":')
    assert_problems(example, capsys, [
        (FIREWALL, "firewall__rules.2222/tcp", "drops SSH, the port the engines connect to")])


def test_sshd_port_feeds_the_drop_in_and_the_firewall_rule():
    """The role's own default and template, rendered by Ansible's templar with sshd__port 2222:
    the drop-in listens there and the rule sshd declares to the firewall lets that port in."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    from libraryops import role_specs

    hostvars = {**role_specs.defaults("sshd"), "sshd__port": 2222,
                "sshd__management_networks": ["198.51.100.0/28"], "ansible_managed": "managed",
                # What `ssh -Q kex` answers on Debian 12 (OpenSSH 9.2), in part.
                "_sshd_known_kex": ["curve25519-sha256@libssh.org",
                                    "sntrup761x25519-sha512@openssh.com"],
                "sshd__kex_extra_algorithms": ["curve25519-sha256@libssh.org"]}
    templar = Templar(loader=DataLoader(), variables=hostvars)
    rules = templar.template(trust_as_template(hostvars["sshd__firewall__dependent_rules"]))
    assert list(rules) == ["2222/tcp"]
    assert rules["2222/tcp"]["sources"] == ["198.51.100.0/28"]
    template = (role_specs.ROLES / "sshd" / "templates" / "sshd.conf.j2").read_text()
    dropin = templar.template(trust_as_template(template))
    assert "\nPort 2222\n" in dropin
    # Only the key exchanges this OpenSSH knows, post-quantum first; Ed25519 host key only.
    assert ("\nKexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256@libssh.org\n"
            in dropin)
    assert "\nHostKey /etc/ssh/ssh_host_ed25519_key\n" in dropin and "ecdsa" not in dropin


def test_public_pcs_must_offer_a_key_exchange_pyinfra_can_use(example, capsys):
    """pyinfra reaches public PCs over paramiko, which has no post-quantum key exchange: without
    the documented classical one, the deploy could not connect (paramiko's own table decides)."""
    (example / "group_vars/public_pcs/sshd.yml").unlink()
    assert_problems(example, capsys, [
        ("group_vars/public_pcs/sshd.yml", "sshd__kex_extra_algorithms",
         "public PCs offer no key exchange pyinfra's SSH library (paramiko) knows: the "
         "public-PC deploy could not connect (allowed: a list including one of ecdh-sha2-nistp256"
         ", ecdh-sha2-nistp384, ecdh-sha2-nistp521, curve25519-sha256@libssh.org)")])


def test_the_documented_classical_key_exchange_is_one_paramiko_knows():
    assert "curve25519-sha256@libssh.org" in pyinfra_key_exchanges()
