"""Role wireless_ap: hostapd's own parser, systemd-networkd's and systemd's views of the AP.

Expected values come from the inventory through :mod:`libraryops.wireless` and
:mod:`libraryops.hours` (the same code the roles render from). The Wi-Fi timers are checked by
the schedule verifier (:class:`libraryops.timers.HostTimers`: the host's systemd and the units'
real conditions, over the whole sweep of the calendar). The tests that switch Wi-Fi or plug
stand-in ports into a bridge are lab only. No test reads a secret: the
hostapd files are only read for named non-secret keys, by grep on the host, so a failing
assertion can never print a passphrase.
"""

import re
import shlex

import pytest

from libraryops import wireless
from libraryops.timers import acted, expected

testinfra_hosts = ["ansible://wireless_aps"]

#: The hours model's events the Wi-Fi timers fire.
WIFI_EVENTS = ("wifi_on", "wifi_off")

#: hostapd keys a test may read (never wpa_passphrase, *_shared_secret, radius_das_client).
PUBLIC_KEYS = ("interface", "bss", "bridge", "ssid2", "country_code", "hw_mode", "channel",
               "ap_isolate", "ignore_broadcast_ssid", "start_disabled", "wpa_key_mgmt",
               "ieee8021x", "ieee80211w", "auth_server_addr", "auth_server_port",
               "nas_identifier")


@pytest.fixture
def ap(host, inventory_vars, role_vars):
    """The role's effective settings (defaults overlaid with the inventory, Jinja ones rendered)
    and the plan libraryops.wireless makes of them."""
    import jinja2

    settings = role_vars("wireless_ap")
    for key, value in settings.items():
        if isinstance(value, str) and "{{" in value and "wireless_ap__" in value:
            settings[key] = jinja2.Template(value).render(**settings)
    plan = wireless.ap_plan(inventory_vars["wireless__networks"], settings["wireless_ap__radios"],
                            settings["wireless_ap__uplink_interface"],
                            host.backend.get_hostname(), inventory_vars.get("ansible_host"))
    return {"settings": settings, "inventory": inventory_vars, "plan": plan}


def _sections(host, path):
    """The config's non-secret ``key=value`` lines, grouped by BSS (first: the radio's own)."""
    pattern = "^(" + "|".join(PUBLIC_KEYS) + ")="
    lines = host.check_output(f"grep -E {shlex.quote(pattern)} {shlex.quote(path)}").splitlines()
    sections: list[dict[str, list[str]]] = []
    for line in lines:
        key, _, value = line.partition("=")
        if key in ("interface", "bss"):
            sections.append({})
        sections[-1].setdefault(key, []).append(value)
    return sections


def test_hostapd_own_parser_accepts_each_radio_configuration(host, ap):
    if ap["settings"]["wireless_ap__service_enabled"]:
        # A second hostapd would fight the running one for the radio: its own start is the test.
        for radio in ap["plan"]["radios"]:
            assert host.service(f"libraryops-hostapd@{radio['interface']}").is_running
        return
    for radio in ap["plan"]["radios"]:
        run = host.run(f"timeout 5 hostapd {shlex.quote(radio['config'])}")
        output = run.stdout + run.stderr
        assert "errors found in configuration file" not in output, output
        assert not re.search(r"^Line \d+:", output, re.MULTILINE), output
        # The lab has no radio: a valid file is parsed in full, then the driver fails.
        assert run.rc == 1
        assert "Failed to initialize driver 'nl80211'" in output, output
        # hostapd set up (and tore down) exactly the BSS the plan says, by interface name.
        torn_down = set(re.findall(r"^(\S+): AP-DISABLED", output, re.MULTILINE))
        assert torn_down == {bss["ifname"] for bss in radio["bss"]}


def test_each_network_on_the_radio_band_has_its_bss(host, ap):
    country = ap["inventory"]["wireless__country_code"]
    for radio in ap["plan"]["radios"]:
        sections = _sections(host, radio["config"])
        assert sections[0]["country_code"] == [country]
        assert sections[0]["channel"] == [str(radio["channel"])]
        assert [s.get("interface", s.get("bss"))[0] for s in sections] == [
            bss["ifname"] for bss in radio["bss"]]
        for section, bss in zip(sections, radio["bss"], strict=True):
            assert section["ssid2"] == [wireless.ssid_hex(bss["ssid"])]
            assert section["bridge"] == [wireless.vlan_bridge(bss["vlan"])]
            assert section["ap_isolate"] == ["1" if bss["isolation"] else "0"]
            assert section["ignore_broadcast_ssid"] == ["1" if bss["hidden"] else "0"]
            assert ("start_disabled" in section) == bss["follows_hours"]
            if bss["security"] == "open":
                assert "wpa_key_mgmt" not in section
            else:
                assert section["wpa_key_mgmt"] == [bss["key_mgmt"]["hostapd"]]
            if bss["enterprise"]:
                assert section["ieee8021x"] == ["1"]
                assert section["auth_server_addr"] == [s["address"]
                                                       for s in bss["radius_servers"]]
                assert section["nas_identifier"] == [bss["nas_identifier"]]


def test_secret_bearing_files_are_root_only(host, ap):
    directory = host.file(wireless.HOSTAPD_DIR)
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o700)
    for radio in ap["plan"]["radios"]:
        config = host.file(radio["config"])
        assert (config.user, config.group, config.mode) == ("root", "root", 0o600)
    configs = host.check_output(f"find {wireless.HOSTAPD_DIR} -name '*.conf'").split()
    assert sorted(configs) == sorted(r["config"] for r in ap["plan"]["radios"])


def test_each_vlan_has_a_bridge_without_an_address(host, ap):
    links = {line.split()[1]: line.split()[-1] for line in host.check_output(
        "networkctl list --no-legend --no-pager").splitlines()}
    for vlan in ap["plan"]["vlans"]:
        bridge = vlan["bridge"]
        assert host.check_output(f"ip -d -o link show {bridge}").count(" bridge ") >= 1
        assert links.get(bridge) == "configured", links
        assert host.check_output(f"ip -o addr show dev {bridge}") == ""
    # The uplink tags exactly the declared VLANs (systemd-networkd's merged view of the file).
    uplink_file = ap["settings"]["wireless_ap__uplink_network_file"]
    dropin = f"/etc/systemd/network/{uplink_file}.d/60-libraryops-vlans.conf"
    declared = host.check_output(f"grep -h '^VLAN=' {dropin}").split()
    assert declared == [f"VLAN={v['interface']}" for v in ap["plan"]["vlans"]]
    networkd = host.run("journalctl -b -u systemd-networkd --no-pager -o cat")
    assert not re.search(r"60-libraryops-\S+: (Unknown|Failed|Invalid)", networkd.stdout)


def test_hostapd_runs_only_where_it_can_and_the_host_is_not_degraded(host, ap):
    enabled = ap["settings"]["wireless_ap__service_enabled"]
    for radio in ap["plan"]["radios"]:
        service = host.service(f"libraryops-hostapd@{radio['interface']}")
        assert service.is_enabled == enabled
        assert service.is_running == enabled
        state = host.run(f"systemctl is-failed libraryops-hostapd@{radio['interface']}")
        assert state.stdout.strip() != "failed"
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", failed


@pytest.fixture
def wifi_plan(ap, hours):
    """The hours model's Wi-Fi timers this AP has: {timer unit: event} (empty when no network
    follows the hours or the schedule is off)."""
    if not ap["plan"]["scheduled"] or not ap["settings"]["wireless_ap__schedule_enabled"]:
        return {}
    return {f"{t['unit']}.timer": t["event"] for t in hours.timer_plan()["timers"]
            if t["event"] in WIFI_EVENTS}


def test_wifi_timers_act_exactly_when_the_hours_model_says_over_the_whole_sweep(
        host, hours, wifi_plan, timers, sweep):
    if not wifi_plan:
        pytest.skip("no network of this AP follows the opening hours")
    assert host.file("/etc/libraryops/closures").content_string == hours.closures_file()
    reports = timers.reports(wifi_plan, sweep)
    assert not [(u, r.failures()) for u, r in reports.items() if r.failures()]
    assert acted(reports, wifi_plan) == expected(hours, sweep, WIFI_EVENTS)
    for unit in wifi_plan:
        assert host.service(unit).is_enabled


def _states(host, networks):
    return host.check_output("; ".join(f"cat /var/lib/libraryops/wifi/{n} 2>/dev/null || echo on"
                                       for n in networks)).split()


def test_lab_only_the_switch_records_each_networks_state_and_says_so(host, ap, lab_only):
    scheduled = sorted(ap["plan"]["scheduled"])
    if not scheduled:
        pytest.skip("no network of this AP follows the opening hours")
    network = scheduled[0]
    before = host.check_output(f"cat /var/lib/libraryops/wifi/{network} 2>/dev/null || echo on")
    since = host.check_output("date '+%Y-%m-%d %H:%M:%S'")
    try:
        for state in ("off", "on"):
            host.check_output(f"/usr/local/sbin/libraryops-wifi {state} {network}")
            status = host.check_output("/usr/local/sbin/libraryops-wifi status")
            assert f"{network} {state} " in status
        journal = host.check_output(
            f"journalctl -t libraryops-wifi --since {shlex.quote(since)} --no-pager -o cat")
        assert f"{network}: off" in journal and f"{network}: on" in journal
        if not ap["settings"]["wireless_ap__service_enabled"]:
            for bss in ap["plan"]["scheduled"][network]:
                assert f"{bss} on " in journal and "hostapd is not running" in journal
        assert host.run(f"/usr/local/sbin/libraryops-wifi off no-such-{network}").rc == 2
    finally:
        host.run(f"/usr/local/sbin/libraryops-wifi {shlex.quote(before)} {network}")


def test_lab_only_the_timers_services_switch_as_the_plan_says_and_only_then(
        host, ap, wifi_plan, timers, sweep, now, lab_only):
    """The real services, started with the clock of instants the plan picks (the next Wi-Fi-off
    and Wi-Fi-on firings that act, then one that its condition skips on a closure date): the
    networks go off, then on, then stay as they are."""
    if not wifi_plan:
        pytest.skip("no network of this AP follows the opening hours")
    scheduled = sorted(ap["plan"]["scheduled"])
    reports = timers.reports(wifi_plan, sweep)

    def firing(event, verdict):
        found = sorted((at, reports[u].service) for u, e in wifi_plan.items() if e == event
                       for at, v in reports[u].firings if v == verdict)
        return next(((s, at) for at, s in found if at >= now), None) or (
            (found[-1][1], found[-1][0]) if found else None)

    before = _states(host, scheduled)
    try:
        for event, state in (("wifi_off", "off"), ("wifi_on", "on")):
            service, at = firing(event, "acts")
            assert timers.start_as_of(service, at) == (True, "success")
            assert _states(host, scheduled) == [state] * len(scheduled)
        skipped = firing("wifi_off", "skipped")
        if skipped is None:
            pytest.skip("the branch has no closure date: no Wi-Fi-off firing to skip")
        assert timers.start_as_of(*skipped) == (False, "exec-condition")
        assert _states(host, scheduled) == ["on"] * len(scheduled)
    finally:
        for network, state in zip(scheduled, before, strict=True):
            host.run(f"/usr/local/sbin/libraryops-wifi {shlex.quote(state)} {network}")


#: Stand-in ports for the BSS interfaces: ``sh -c SCRIPT probe BRIDGE PORT...`` puts a veth pair
#: per PORT into BRIDGE, the far end in a network namespace of its own with an address of RFC
#: 5737's TEST-NET-1 (the frames stay on the bridge, which has no other port where this runs),
#: and prints, for each PORT after the first, "reached" when a TCP SYN from the first one got an
#: answer (refused: no listener, but the frames crossed the bridge) or "blocked" when nothing
#: came back. Everything it made is removed on exit.
_PROBE_SCRIPT = r"""
set -eu
bridge=$1; shift
ports="$*"
cleanup() {
    i=0
    for name in $ports; do
        ip link del "$name" 2>/dev/null || true
        ip netns del "lo-probe$i" 2>/dev/null || true
        i=$((i+1))
    done
}
trap cleanup EXIT
i=0
for name in $ports; do
    ip netns add "lo-probe$i"
    ip link add "$name" type veth peer name probe netns "lo-probe$i"
    ip link set "$name" master "$bridge" up
    ip -n "lo-probe$i" addr add "192.0.2.$((10+i))/24" dev probe
    ip -n "lo-probe$i" link set probe up
    i=$((i+1))
done
i=0
for name in $ports; do
    if [ "$i" -gt 0 ]; then
        ip netns exec lo-probe0 python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=3)
except ConnectionRefusedError:
    print("reached")
except OSError:
    print("blocked")
' "192.0.2.$((10+i))"
    fi
    i=$((i+1))
done
"""


def test_lab_only_isolated_networks_clients_on_different_radios_cannot_reach_each_other(
        host, ap, lab_only):
    """The firewall role's bridge filter between an isolated network's BSS interfaces, proven
    with stand-ins: veth pairs named like those interfaces (the lab has no radios), each far end
    in a namespace of its own, plus a third, non-isolated port as the control."""
    isolated = {b: p for b, p in ap["plan"]["bridges"].items() if len(p) >= 2}
    assert isolated, "the lab declares an isolated network on two radios"
    bridge, ports = sorted(isolated.items())[0]
    present = host.check_output("ip -o link show master %s", bridge)
    if present or any(host.interface(p).exists for p in ports):
        pytest.skip(f"{bridge} has real ports here: the stand-ins would join a live network")
    control = "lo-probe-ctl"
    out = host.check_output("sh -c %s probe %s %s", _PROBE_SCRIPT, bridge,
                            " ".join([ports[0], ports[1], control]))
    assert out.splitlines() == ["blocked", "reached"], out
    assert not host.check_output("ip netns list")
