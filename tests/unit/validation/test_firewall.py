"""``make validate`` for the firewall declarations, and the merge it shares with the firewall
role's filter: each bad input is named by file and key.
"""

import pytest
from sites import FIREWALL, SSHD, STAFF_FIREWALL, assert_problems, edit, write

from libraryops import firewall

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
    "firewall port with a leading zero": (
        lambda s: edit(s, FIREWALL, '"9100/tcp":', '"09100/tcp":'),
        [(FIREWALL, "firewall__rules.09100/tcp", "port 09100 has a leading zero (the same port "
                                                 "as 9100)")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_firewall_data(case, example, bad_input):
    bad_input(example, BAD[case])


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


@pytest.mark.parametrize("key", ["", " "])
def test_an_empty_firewall_key_is_still_named(key):  # found by tests/unit/properties
    _, problems = firewall.merge([("firewall__rules", {key: None})])
    assert [p.key for p in problems] == [repr(key)]


def test_a_key_with_control_characters_stays_one_inert_line():  # found by tests/unit/properties
    _, problems = firewall.merge([("firewall__rules", {"\x1b\x85": None})])
    assert problems
    for problem in problems:
        assert len(str(problem).splitlines()) == 1 and "\x1b" not in str(problem)


# --- the rule that would drop SSH follows sshd__port ------------------------------------------


def test_the_firewall_check_follows_sshd_port(example, capsys):
    edit(example, SSHD, "sshd__password_authentication: false\n",
         "sshd__password_authentication: false\nsshd__port: 2222\n")
    write(example, "group_vars/all/connection.yml",
          (example / "group_vars/all/connection.yml").read_text() + "ansible_port: 2222\n")
    edit(example, FIREWALL, '"9100/tcp":', '"2222/tcp":\n    action: drop\n  "9100/tcp":')
    assert_problems(example, capsys, [
        (FIREWALL, "firewall__rules.2222/tcp", "drops SSH, the port the engines connect to")])
