"""Lab settings read from merged host variables (libraryops.lab.config)."""

from pathlib import Path

import pytest

from libraryops.lab.config import STATE_DIR_ENV, config_from_hosts
from libraryops.lab.system import LabError

SETTINGS = {
    "lab__bridge_name": "lolab0",
    "lab__bridge_address": "10.123.0.1/24",
    "lab__state_dir": "/var/lib/libraryops-lab",
    "lab__release": "12",
}


def hosts(**addresses):
    return {name: {**SETTINGS, "ansible_host": ip} for name, ip in addresses.items()}


def test_reads_bridge_state_dir_and_sorted_hosts():
    config = config_from_hosts(hosts(**{"pub-02": "10.123.0.12", "pub-01": "10.123.0.11"}), {})
    assert config.bridge == "lolab0"
    assert config.bridge_ip == "10.123.0.1"
    assert str(config.network) == "10.123.0.0/24"
    assert config.state_dir == Path("/var/lib/libraryops-lab")
    assert [(h.name, str(h.address)) for h in config.hosts] == [
        ("pub-01", "10.123.0.11"), ("pub-02", "10.123.0.12"),
    ]


def test_each_host_has_its_own_release():
    hostvars = hosts(**{"pub-01": "10.123.0.11", "pub-02": "10.123.0.12"})
    hostvars["pub-02"]["lab__release"] = "13"
    config = config_from_hosts(hostvars, {})
    assert [(h.name, h.release) for h in config.hosts] == [("pub-01", "12"), ("pub-02", "13")]


def test_environment_overrides_state_dir():
    config = config_from_hosts(hosts(pc="10.123.0.11"), {STATE_DIR_ENV: "/tmp/lab-x"})
    assert config.layout.ssh_config == Path("/tmp/lab-x/ssh/config")
    assert config.layout.host_dir("pc") == Path("/tmp/lab-x/hosts/pc")


@pytest.mark.parametrize(
    ("vars_", "message"),
    [
        ({"lab__bridge_name": None}, "lab__bridge_name: not set for pc"),
        ({"lab__bridge_name": "a-much-too-long-name"}, "not an interface name"),
        ({"lab__bridge_address": "10.123.0.1"}, "10.123.0.1/32 is not a usable"),
        ({"lab__bridge_address": "10.123.0.0/24"}, "not a usable host address"),
        ({"lab__bridge_address": "banana"}, "lab__bridge_address"),
        ({"lab__state_dir": "relative/dir"}, "must be an absolute path"),
        ({"lab__state_dir": "/var/lib/with space"}, "needs a short path"),
        ({"ansible_host": "10.9.9.9"}, "not a free host address of the lab subnet"),
        ({"ansible_host": "10.123.0.1"}, "not a free host address"),
        ({"ansible_host": "pc.example"}, "is not an IPv4 address"),
        ({"lab__release": None}, "pc: lab__release is not set"),
        ({"lab__release": "11"}, "lab__release '11' is not a release the lab builds"),
    ],
)
def test_refuses_bad_settings(vars_, message):
    hostvars = {"pc": {**SETTINGS, "ansible_host": "10.123.0.11", **vars_}}
    with pytest.raises(LabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_hosts(hostvars, {})


def test_settings_must_agree_between_hosts():
    hostvars = hosts(one="10.123.0.11", two="10.123.0.12")
    hostvars["two"]["lab__bridge_name"] = "otherbr0"
    with pytest.raises(LabError, match="lab__bridge_name: differs between hosts"):
        config_from_hosts(hostvars, {})


def test_addresses_must_be_unique():
    with pytest.raises(LabError, match="share address 10.123.0.11"):
        config_from_hosts(hosts(one="10.123.0.11", two="10.123.0.11"), {})


def test_host_names_must_be_machine_names():
    with pytest.raises(LabError, match="not usable as a host name"):
        config_from_hosts(hosts(**{"bad.name": "10.123.0.11"}), {})


def test_empty_inventory_is_an_error():
    with pytest.raises(LabError, match="no hosts"):
        config_from_hosts({}, {})
