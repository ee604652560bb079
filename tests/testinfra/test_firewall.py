"""Role firewall: nftables' own view of the rules, and what another host can reach."""

import json
import shlex

import pytest
from conftest import can_connect

testinfra_hosts = ["ansible://all"]

SITE_LAYERS = ("firewall__rules", "firewall__group_rules", "firewall__host_rules")


def _declared(inventory_vars):
    """port/proto keys the inventory itself declares (roles may add more, e.g. SSH)."""
    return {key for layer in SITE_LAYERS for key in inventory_vars.get(layer) or {}}


def _table(host):
    return json.loads(host.check_output("nft -j list table inet libraryops"))["nftables"]


def test_inbound_policy_is_drop_and_loaded_at_boot(host):
    chains = {item["chain"]["name"]: item["chain"] for item in _table(host) if "chain" in item}
    assert chains["input"]["hook"] == "input" and chains["input"]["policy"] == "drop"
    assert chains["forward"]["policy"] == "drop"
    assert host.service("nftables").is_enabled


def _ssh(role_vars):
    """sshd's port/proto key: the one port sshd listens on and declares (``sshd__port``)."""
    return f"{role_vars('sshd')['sshd__port']}/tcp"


def test_inventory_rules_and_ssh_are_in_nfts_view(host, inventory_vars, role_vars):
    """nft's own listing holds a rule for SSH and for each port/proto the inventory declares
    (roles may declare more: the AP's, for instance)."""
    ports = set()
    for item in _table(host):
        for expr in item.get("rule", {}).get("expr", []):
            match = expr.get("match", {})
            payload = match.get("left", {}).get("payload", {})
            if payload.get("field") == "dport":
                ports.add(f"{match['right']}/{payload['protocol']}")
    assert _declared(inventory_vars) | {_ssh(role_vars)} <= ports


def test_lab_only_undeclared_port_is_refused_from_another_host_while_ssh_works(
        host, other_host, inventory_vars, role_vars, lab_only):
    declared = _declared(inventory_vars) | {_ssh(role_vars)}
    port = next(p for p in range(18080, 18180) if f"{p}/tcp" not in declared
                and not host.socket(f"tcp://0.0.0.0:{p}").is_listening)
    unit = f"libraryops-probe-{port}"
    server = ("import socket,time; s=socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              f"s.bind(('0.0.0.0', {port})); s.listen(); time.sleep(60)")
    host.run(f"systemctl reset-failed {unit}")
    host.check_output(f"systemd-run --collect --unit={unit} --property=RuntimeMaxSec=60 "
                      f"python3 -c {shlex.quote(server)}")
    try:
        address = inventory_vars["ansible_host"]
        assert _wait_listening(host, port)
        assert can_connect(host, "127.0.0.1", port), "the listener answers on the host itself"
        assert not can_connect(other_host, address, port), "the firewall let it through"
        assert can_connect(other_host, address, role_vars("sshd")["sshd__port"])
    finally:
        host.run(f"systemctl stop {unit}")


def _wait_listening(host, port):
    for _ in range(50):
        if host.socket(f"tcp://0.0.0.0:{port}").is_listening:
            return True
        host.run("sleep 0.1")
    pytest.fail(f"the probe listener on {port} did not start")
