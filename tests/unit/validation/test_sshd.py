"""``make validate`` for sshd's data: the management networks, the groups let in, one SSH
port (``sshd__port`` feeds the drop-in, the firewall rule and validation), and a key exchange
pyinfra can use.
"""

import pytest
from sites import SSHD, assert_problems, edit, write

from libraryops.validation.sshd import pyinfra_key_exchanges

BAD = {
    "management networks covering the Internet": (
        lambda s: edit(s, SSHD, "[198.51.100.0/28, 192.0.2.0/24]", "[0.0.0.0/0]"),
        [(SSHD, "sshd__management_networks", "together the networks reach the Internet in "
          "IPv4 (over 2^31 public addresses): SSH would answer anyone")]),
    "management networks covering the Internet in pieces": (
        lambda s: edit(s, SSHD, "[198.51.100.0/28, 192.0.2.0/24]",
                       "[0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/2]"),
        [(SSHD, "sshd__management_networks", "reach the Internet")]),
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
}


@pytest.mark.parametrize("case", BAD)
def test_bad_sshd_data(case, example, bad_input):
    bad_input(example, BAD[case])


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
