"""pyinfra deploy public_pc: the patron account and the Firefox policies on public PCs."""

import json

testinfra_hosts = ["ansible://public_pcs"]


def test_patron_account_is_unprivileged(host, inventory_vars):
    name = inventory_vars["public_pc__patron_user"]
    patron = host.user(name)
    assert patron.exists
    assert patron.home == f"/home/{name}"
    assert patron.groups == [name]
    assert host.check_output(f"passwd -S {name}").split()[1] == "L"
    # sudo's own view: no rule applies to the patron.
    assert "is not allowed to run sudo" in host.check_output(f"sudo -l -U {name}")


def test_firefox_homepage_is_the_branch_catalog(host, inventory_vars):
    policies_file = host.file("/etc/firefox/policies/policies.json")
    assert policies_file.user == "root" and policies_file.mode == 0o644
    homepage = json.loads(policies_file.content_string)["policies"]["Homepage"]
    assert homepage["URL"] == inventory_vars["branch__catalog_url"]
    assert homepage["Locked"] is True


def test_catalog_homepage_answers_from_the_public_pc(host, inventory_vars):
    url = inventory_vars["branch__catalog_url"]
    status = host.check_output(
        f"python3 -c 'import urllib.request as u; print(u.urlopen(\"{url}\", timeout=5).status)'"
    )
    assert status == "200"
