"""Scenario only: what prepare.yml added beyond the inventory is gone after the converge."""

testinfra_hosts = ["ansible://all"]


def test_dropped_account_is_gone_and_cannot_log_in(host, inventory_vars, controller_ssh):
    name = inventory_vars["accounts_molecule_dropped_account"]
    assert not host.user(name).exists
    assert not host.file(f"/home/{name}").exists
    proc = controller_ssh(name)
    assert proc.returncode == 255 and "Permission denied" in proc.stderr, proc.stderr


def test_dropped_key_is_no_longer_authorized(host, inventory_vars):
    user = host.user(inventory_vars["ansible_user"])
    keys = host.file(f"{user.home}/.ssh/authorized_keys").content_string
    assert inventory_vars["accounts_molecule_dropped_key"].split()[1] not in keys
