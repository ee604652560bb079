"""Role accounts: management accounts, their keys and sudo, checked on every host."""

from pathlib import Path

import pytest

testinfra_hosts = ["ansible://all"]


def _declared_keys(user):
    keys = list(user.get("ssh_keys", []))
    keys += [Path(p).read_text().strip() for p in user.get("ssh_key_files", [])]
    return keys


def _key_blobs(lines):
    return sorted(line.split()[1] for line in lines if line.strip())


def test_management_accounts_have_exactly_the_inventory_keys(host, role_vars):
    settings = role_vars("accounts")
    for user in settings["accounts__management_users"]:
        account = host.user(user["name"])
        assert account.exists
        assert settings["accounts__admin_group"] in account.groups
        authorized = host.file(f"{account.home}/.ssh/authorized_keys")
        assert authorized.user == user["name"]
        installed = authorized.content_string.splitlines()
        assert _key_blobs(installed) == _key_blobs(_declared_keys(user))


def test_admin_group_holds_exactly_the_inventory_accounts(host, role_vars):
    """Dropped accounts are gone: getent's view of the admin group is the inventory's list."""
    settings = role_vars("accounts")
    entry = host.check_output(f"getent group {settings['accounts__admin_group']}")
    members = [m for m in entry.split(":")[3].split(",") if m]
    assert sorted(members) == sorted(u["name"] for u in settings["accounts__management_users"])


def test_management_accounts_have_no_password(host, role_vars):
    for user in role_vars("accounts")["accounts__management_users"]:
        # passwd -S prints "<user> L ..." for a locked password (shadow(5) "!").
        assert host.check_output(f"passwd -S {user['name']}").split()[1] == "L"


def test_admin_group_has_passwordless_sudo(host, role_vars):
    settings = role_vars("accounts")
    sudoers = host.file(f"/etc/sudoers.d/{settings['accounts__admin_group']}")
    assert sudoers.mode == 0o440
    # visudo's own parser accepts the whole sudoers tree, and sudo's own view grants the rule.
    assert host.run("visudo -c").rc == 0
    for user in settings["accounts__management_users"]:
        rights = host.check_output(f"sudo -l -U {user['name']}")
        assert "NOPASSWD: ALL" in rights


def test_root_bootstrap_key_still_logs_in(controller_ssh, inventory_vars):
    """The lab tool owns root's key; the accounts role never touches it (lab sites only)."""
    if "lab__state_dir" not in inventory_vars:
        pytest.skip("root's bootstrap key is the lab's")
    assert controller_ssh("root", command="true").returncode == 0


def test_management_homes_are_private(host, role_vars):
    """Another local user (nobody here; a patron on a public PC) cannot list a management home."""
    settings = role_vars("accounts")
    for user in settings["accounts__management_users"]:
        home = host.user(user["name"]).home
        assert host.file(home).mode == int(settings["accounts__home_mode"], 8)
        listing = host.run(f"runuser -u nobody -- ls {home}")
        assert listing.rc != 0 and "Permission denied" in listing.stderr
