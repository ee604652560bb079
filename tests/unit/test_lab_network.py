"""Detecting that the lab subnet is already used on the machine (pure logic)."""

import ipaddress

from libraryops.lab.network import subnet_conflicts

LAB = ipaddress.IPv4Network("10.123.0.0/24")
ADDRESSES = [
    {"ifname": "lo", "addr_info": [{"local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "addr_info": [{"local": "192.0.2.2", "prefixlen": 24}]},
    {"ifname": "lolab0", "addr_info": [{"local": "10.123.0.1", "prefixlen": 24}]},
]
ROUTES = [
    {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
    {"dst": "192.0.2.0/24", "dev": "eth0"},
    {"dst": "10.123.0.0/24", "dev": "lolab0"},
    {"type": "local", "dst": "10.123.0.1", "dev": "lolab0", "table": "local"},
]


def test_own_bridge_is_no_conflict():
    assert subnet_conflicts(LAB, "lolab0", ADDRESSES, ROUTES) == []


def test_address_on_another_interface_conflicts():
    addresses = [*ADDRESSES, {"ifname": "eth1", "addr_info": [{"local": "10.123.0.9",
                                                              "prefixlen": 16}]}]
    assert subnet_conflicts(LAB, "lolab0", addresses, ROUTES) == ["eth1 has 10.123.0.9/16"]


def test_overlapping_route_via_another_interface_conflicts():
    routes = [*ROUTES, {"dst": "10.0.0.0/8", "gateway": "192.0.2.1", "dev": "eth0"}]
    assert subnet_conflicts(LAB, "lolab0", ADDRESSES, routes) == ["route 10.0.0.0/8 via eth0"]


def test_other_bridge_name_makes_the_existing_one_a_conflict():
    found = subnet_conflicts(LAB, "newlab0", ADDRESSES, ROUTES)
    assert "lolab0 has 10.123.0.1/24" in found
