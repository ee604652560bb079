"""Role timesync: the host's time zone is its branch's; timesyncd asks only the inventory's NTP
servers (systemd's merged view; timesyncd itself skips containers, so it is not asked)."""

testinfra_hosts = ["ansible://all"]


def test_time_zone_is_the_branch_time_zone(host, inventory_vars):
    expected = inventory_vars.get("timesync__timezone", inventory_vars["branch__timezone"])
    # systemd's own view (timedated), not the file the module wrote.
    assert host.check_output("timedatectl show --property=Timezone --value") == expected


def _effective_time_section(host):
    """The last value of each key as systemd merges timesyncd.conf and its drop-ins."""
    values = {}
    for line in host.check_output("systemd-analyze cat-config systemd/timesyncd.conf").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_timesyncd_uses_only_the_inventory_ntp_servers(host, inventory_vars):
    effective = _effective_time_section(host)
    assert effective["NTP"].split() == inventory_vars["timesync__ntp_servers"]
    assert effective["FallbackNTP"] == ""
    assert host.service("systemd-timesyncd").is_enabled
