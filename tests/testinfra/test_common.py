"""Role common: journald limits (systemd's merged view) and the login banner."""

testinfra_hosts = ["ansible://all"]


def test_journald_limits_are_the_inventory_ones(host, role_vars):
    settings = role_vars("common")
    values = {}
    for line in host.check_output("systemd-analyze cat-config systemd/journald.conf").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    assert values["Storage"] == settings["common__journald_storage"]
    assert values["SystemMaxUse"] == settings["common__journald_system_max_use"]
    assert values["MaxRetentionSec"] == settings["common__journald_max_retention"]


def test_login_banner_is_the_inventory_one(host, role_vars):
    banner = role_vars("common")["common__login_banner"]
    for path in ("/etc/issue", "/etc/issue.net"):
        assert host.file(path).content_string == banner
