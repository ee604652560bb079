"""Role wifi_client: NetworkManager's own view of the profiles, from the inventory.

NetworkManager loads a keyfile only when it is 0600 root and valid, so ``nmcli`` listing a
profile with the declared SSID and key management is the check; no test asks for a secret
(``nmcli`` never prints them without ``--show-secrets``).
"""

import shlex

import pytest

from libraryops import wireless

testinfra_hosts = ["ansible://all"]


@pytest.fixture
def profiles(host, inventory_vars, role_vars):
    """The profiles libraryops.wireless plans for this host; skips hosts the role does not
    configure (not a staff machine, wifi_client__enabled not set)."""
    enabled = inventory_vars.get("wifi_client__enabled",
                                 "staff_machines" in inventory_vars["group_names"])
    if not enabled or "wireless__networks" not in inventory_vars:
        pytest.skip("the inventory gives this host no Wi-Fi profiles")
    return wireless.client_profiles(inventory_vars["wireless__networks"],
                                    inventory_vars["group_names"])


def _nmcli_get(host, name, *fields):
    out = host.check_output(f"nmcli -g {','.join(fields)} connection show {shlex.quote(name)}")
    return dict(zip(fields, out.splitlines(), strict=True))


def test_networkmanager_loaded_each_profile(host, profiles):
    listed = host.check_output("nmcli -t -f NAME,UUID,TYPE connection show").splitlines()
    for profile in profiles:
        assert f"{profile['ssid']}:{profile['uuid']}:802-11-wireless" in listed, listed


def test_ssid_security_and_visibility_are_the_declared_ones(host, profiles):
    for profile in profiles:
        got = _nmcli_get(host, profile["uuid"], "802-11-wireless.ssid",
                         "802-11-wireless-security.key-mgmt", "802-11-wireless.hidden",
                         "802-11-wireless-security.pmf")
        assert got["802-11-wireless.ssid"] == profile["ssid"]
        assert got["802-11-wireless-security.key-mgmt"] == profile["key_mgmt"]["nm"]
        assert got["802-11-wireless.hidden"] == ("yes" if profile["hidden"] else "no")
        if profile["security"] != "open":
            assert got["802-11-wireless-security.pmf"] == profile["key_mgmt"]["pmf"]


def test_enterprise_profiles_pin_the_ca_and_the_server_name(host, profiles):
    for profile in (p for p in profiles if p["enterprise"]):
        got = _nmcli_get(host, profile["uuid"], "802-1x.eap", "802-1x.ca-cert",
                         "802-1x.domain-suffix-match", "802-1x.phase2-auth", "802-1x.identity")
        assert got["802-1x.eap"] == profile["eap"]
        assert got["802-1x.ca-cert"] == profile["ca_file"]
        assert got["802-1x.domain-suffix-match"] == profile["domain_suffix_match"]
        assert got["802-1x.phase2-auth"] == profile["phase2_auth"]
        assert got["802-1x.identity"] == (profile["client_identity"] or "")
        ca = host.file(profile["ca_file"])
        assert (ca.user, ca.mode) == ("root", 0o644)
        assert ca.content_string.strip() == profile["ca_cert"].strip()


def test_keyfiles_are_root_0600_and_only_the_declared_ones(host, profiles):
    for profile in profiles:
        keyfile = host.file(profile["file"])
        assert (keyfile.user, keyfile.group, keyfile.mode) == ("root", "root", 0o600)
    present = host.check_output(
        f"find {wireless.NM_CONNECTIONS} -name '{wireless.NM_PREFIX}*.nmconnection'").split()
    assert sorted(present) == sorted(p["file"] for p in profiles)


def test_networkmanager_leaves_the_lab_link_alone_and_the_host_is_healthy(host, inventory_vars,
                                                                          profiles):
    assert host.service("NetworkManager").is_running
    if "lab__bridge_address" in inventory_vars:
        devices = host.check_output("nmcli -t -f DEVICE,STATE device").splitlines()
        assert "host0:unmanaged" in devices
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state == "running", host.run("systemctl --failed --no-legend --plain").stdout
