"""Role timesync: the host's time zone is its branch's."""

testinfra_hosts = ["ansible://all"]


def test_time_zone_is_the_branch_time_zone(host, inventory_vars):
    expected = inventory_vars.get("timesync__timezone", inventory_vars["branch__timezone"])
    # systemd's own view (timedated), not the file the module wrote.
    assert host.check_output("timedatectl show --property=Timezone --value") == expected
