"""The inventory adapter against a fixture whose merged values are written out by hand.

Fixture ``fixtures/precedence``: groups all -> parent -> child, ``parent-host`` in parent,
``child-host`` in child, and host_vars for child-host. ``fixture__level`` is set at every level;
the other ``fixture__*`` variables at some levels only. Ansible's documented precedence:
all < parent group < child group < host_vars (dicts are replaced, not merged).
"""

import re
from pathlib import Path

import pytest

from libraryops.inventory import InventoryError, load_site, pyinfra_groups

FIXTURE = Path(__file__).parent / "fixtures" / "precedence"
PASSWORD_FILE = FIXTURE / "vault-password.txt"
#: The plaintext of the inline !vault value in group_vars/child/fixture.yml.
SECRET = "unit-test-plaintext-7f3a"

CONNECTION = {
    "ansible_user": "fixture-admin",
    "ansible_become": True,
    "ansible_ssh_common_args": (
        "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/libraryops/known_hosts"
    ),
}
EXPECTED = {
    "child-host": {
        **CONNECTION,
        "ansible_host": "198.51.100.110",
        "ansible_port": 2222,
        "ansible_ssh_private_key_file": "/etc/libraryops/keys/child-host",
        "fixture__level": "host",
        "fixture__only_all": "from-all",
        "fixture__all_parent": "parent",
        "fixture__all_child": "child",
        "fixture__parent_host": "host",
        "fixture__only_child": "from-child",
        "fixture__dict": {"replaced": "child"},
        "fixture__secret": SECRET,
    },
    "parent-host": {
        **CONNECTION,
        "ansible_host": "198.51.100.120",
        "ansible_port": 22,
        "fixture__level": "parent",
        "fixture__only_all": "from-all",
        "fixture__all_parent": "parent",
        "fixture__all_child": "all",
        "fixture__parent_host": "parent",
        "fixture__dict": {"kept": False, "replaced": "all"},
    },
}


@pytest.fixture(scope="module")
def site():
    return load_site(FIXTURE, vault_password_file=PASSWORD_FILE)


def test_merged_variables_follow_ansible_precedence(site):
    assert site.path == FIXTURE
    assert site.hosts == EXPECTED


def test_group_membership_includes_child_groups(site):
    assert site.groups == {"parent": ["child-host", "parent-host"], "child": ["child-host"]}
    assert site.groups_of("child-host") == ["child", "parent"]
    assert site.hosts_matching("parent") == ["child-host", "parent-host"]
    assert site.hosts_matching("child-host") == ["child-host"]
    assert site.hosts_matching(None) == ["child-host", "parent-host"]


def test_limit_that_names_nothing_is_refused(site):
    with pytest.raises(InventoryError, match="LIMIT=nothing"):
        site.hosts_matching("nothing")


def test_pyinfra_groups_carry_ssh_data(site):
    groups = pyinfra_groups(site)
    assert sorted(groups) == ["child", "parent"]
    assert [name for name, _ in groups["parent"]] == ["child-host", "parent-host"]
    data = dict(groups["parent"])
    ssh_common = {
        "ssh_user": "fixture-admin",
        "ssh_strict_host_key_checking": "yes",
        "ssh_known_hosts_file": "/etc/libraryops/known_hosts",
        "_sudo": True,
    }
    assert data["child-host"] == {
        **EXPECTED["child-host"],
        **ssh_common,
        "ssh_hostname": "198.51.100.110",
        "ssh_port": 2222,
        "ssh_key": "/etc/libraryops/keys/child-host",
    }
    assert data["parent-host"] == {
        **EXPECTED["parent-host"],
        **ssh_common,
        "ssh_hostname": "198.51.100.120",
        "ssh_port": 22,
    }
    assert dict(groups["child"])["child-host"] == data["child-host"]


def test_wrong_vault_password_is_refused_without_leaking(tmp_path):
    wrong = tmp_path / "wrong-password.txt"
    wrong.write_text("not-the-password\n")
    with pytest.raises(InventoryError) as raised:
        load_site(FIXTURE, vault_password_file=wrong)
    message = str(raised.value)
    assert "child-host.fixture__secret: cannot decrypt vault value" in message
    assert SECRET not in message
    assert "$ANSIBLE_VAULT" not in message
    vaulted = (FIXTURE / "group_vars" / "child" / "fixture.yml").read_text().split()
    ciphertext = [word for word in vaulted if re.fullmatch(r"[0-9a-f]{32,}", word)]
    assert len(ciphertext) == 5
    assert not [chunk for chunk in ciphertext if chunk in message]


def test_the_adapter_reads_the_inventory_whatever_the_users_ansible_verbosity(monkeypatch):
    from libraryops import paths
    from libraryops.inventory import load_site

    monkeypatch.setenv("ANSIBLE_VERBOSITY", "3")
    monkeypatch.setenv("ANSIBLE_DEBUG", "1")
    assert load_site(paths.INVENTORIES / "example").hosts
