"""Every validation check of azure.yml names the file and the dotted key (no Azure contacted)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from libraryops.cloud import spec

REPO = Path(__file__).resolve().parents[2]
LAB = yaml.safe_load((REPO / "inventories/lab/azure.yml").read_text())
VNET = "resources.virtual_networks[0]"
RULES = "resources.network_security_groups[0].rules"
VM = "resources.virtual_machines[0]"


def _problems(tmp_path: Path, data: dict) -> list[spec.Problem]:
    site = tmp_path / "inventories" / "town"
    site.mkdir(parents=True, exist_ok=True)
    (site / "azure.yml").write_text(yaml.safe_dump(data))
    return spec.check_site(site)


def _set(data: dict, dotted: str, value) -> None:
    """Set e.g. ``resources.virtual_networks.0.subnets.1.prefix`` in a nested dict/list."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


@pytest.mark.parametrize("site", ["lab", "example"])
def test_shipped_specs_are_valid(site):
    assert spec.check_site(REPO / "inventories" / site) == []


def test_a_site_without_azure_yml_has_no_problems(tmp_path):
    assert spec.check_site(tmp_path) == []


APPEND = {
    "append-vnet": {"name": "vnet-other", "resource_group": "rg-library-lab",
                    "address_space": ["10.20.2.0/24"]},
    "append-nsg": {"name": "nsg-servers", "resource_group": "rg-library-lab"},
}
CASES = {
    "overlapping address spaces": (
        [("resources.virtual_networks", "append-vnet")],
        "resources.virtual_networks[1].address_space[0]", "overlaps 10.20.0.0/22"),
    "overlapping subnets": (
        [("resources.virtual_networks.0.subnets.1.prefix", "10.20.0.128/25")],
        f"{VNET}.subnets[1].prefix", "overlaps 10.20.0.0/24"),
    "subnet outside its vnet": (
        [("resources.virtual_networks.0.subnets.1.prefix", "10.30.1.0/24")],
        f"{VNET}.subnets[1].prefix", "outside the virtual network (allowed: inside 10.20.0.0/22)"),
    "prefix with host bits": (
        [("resources.virtual_networks.0.subnets.0.prefix", "10.20.0.1/24")],
        f"{VNET}.subnets[0].prefix", "host bits set (allowed: 10.20.0.0/24)"),
    "address space with host bits": (
        [("resources.virtual_networks.0.address_space", ["10.20.1.0/22"])],
        f"{VNET}.address_space[0]", "host bits set (allowed: 10.20.0.0/22)"),
    "priority above 4096": (
        [("resources.network_security_groups.0.rules.2.priority", 5000)],
        f"{RULES}[2].priority", "outside the NSG rule range (allowed: 100-4096)"),
    "priority below 100": (
        [("resources.network_security_groups.0.rules.0.priority", 99)],
        f"{RULES}[0].priority", "(allowed: 100-4096)"),
    "duplicate priority in a direction": (
        [("resources.network_security_groups.0.rules.1.priority", 100)],
        f"{RULES}[1].priority", "already used by 'allow-libki-from-town' (rules[0]) for Inbound"),
    "ssh from anywhere": (
        [("resources.network_security_groups.0.rules.1.source", "*")],
        f"{RULES}[1]", "allows port 22 from the Internet ('*') (allowed: a narrower source"),
    "rdp from the internet": (
        [("resources.network_security_groups.0.rules.1.source", "Internet"),
         ("resources.network_security_groups.0.rules.1.destination_ports", [3389])],
        f"{RULES}[1]", "allows port 3389 from the Internet ('Internet')"),
    "admin port inside a range from 0.0.0.0/0": (
        [("resources.network_security_groups.0.rules.1.source", ["0.0.0.0/0"]),
         ("resources.network_security_groups.0.rules.1.destination_ports", ["20-25"])],
        f"{RULES}[1]", "allows port 22 from the Internet (IPv4"),
    "ssh from the whole internet in two halves": (
        [("resources.network_security_groups.0.rules.1.source", ["0.0.0.0/1", "128.0.0.0/1"])],
        f"{RULES}[1]", "allows port 22 from the Internet (IPv4 (over 2^31 public addresses))"),
    "ssh from the internet in many pieces": (
        [("resources.network_security_groups.0.rules.1.source",
          [f"{n}.0.0.0/8" for n in range(1, 100)])],
        f"{RULES}[1]", "allows port 22 from the Internet"),
    "rdp over udp from the internet": (
        [("resources.network_security_groups.0.rules.1.source", "Internet"),
         ("resources.network_security_groups.0.rules.1.protocol", "Udp"),
         ("resources.network_security_groups.0.rules.1.destination_ports", [3389])],
        f"{RULES}[1]", "allows port 3389 from the Internet"),
    "internet admin without a reason": (
        [("resources.network_security_groups.0.rules.1.source", "*"),
         ("resources.network_security_groups.0.rules.1.allow_internet_admin", True)],
        f"{RULES}[1].reason", "allow_internet_admin needs a reason"),
    "gateway subnet smaller than /27": (
        [("resources.virtual_networks.0.subnets.2.prefix", "10.20.3.240/28")],
        f"{VNET}.subnets[2].prefix", "GatewaySubnet 10.20.3.240/28 is too small for a VPN gateway "
        "(allowed: /27 or larger)"),
    "subnet nsg not in the spec": (
        [("resources.virtual_networks.0.subnets.0.network_security_group", "nsg-nowhere")],
        f"{VNET}.subnets[0].network_security_group", "names nothing declared in this spec"),
    "nic subnet not in the spec": (
        [("resources.network_interfaces.0.subnet", "vnet-library-lab/dmz")],
        "resources.network_interfaces[0].subnet", "names nothing declared in this spec (allowed: "
        "vnet-library-lab/GatewaySubnet, vnet-library-lab/mgmt, vnet-library-lab/servers"),
    "nic public ip not in the spec": (
        [("resources.network_interfaces.0.public_ip", "pip-other")],
        "resources.network_interfaces[0].public_ip", "names nothing declared"),
    "vm nic not in the spec": (
        [("resources.virtual_machines.0.network_interfaces", ["nic-libki", "nic-print"])],
        f"{VM}.network_interfaces[1]", "names nothing declared"),
    "resource group not in the spec": (
        [("resources.public_ips.0.resource_group", "rg-elsewhere")],
        "resources.public_ips[0].resource_group", "names nothing declared"),
    "password instead of an ssh key": (
        [("resources.virtual_machines.0.admin_password", "Library2026!")],
        f"{VM}.admin_password", "a password instead of an SSH key (allowed: ssh_public_key only"),
    "vm without an ssh key": (
        [("resources.virtual_machines.0.ssh_public_key", None)],
        f"{VM}.ssh_public_key", "required key is missing"),
    "required tag missing": (
        [("tags", {"owner": "it@town.invalid", "env": "lab"})],
        "tags.cost-center", "required tag is missing"),
    "reserved tag set by hand": (
        [("resources.virtual_machines.0.tags", {"managed-by": "me"})],
        f"{VM}.tags.managed-by", "set by libraryops itself"),
    "duplicate name": (
        [("resources.network_security_groups", "append-nsg")],
        "resources.network_security_groups[2].name", "'nsg-servers' is already declared at "
        "resources.network_security_groups[0] (allowed: names unique per kind)"),
    "unknown key": (
        [("resources.public_ips.0.sku_tier", "Global")],
        "resources.public_ips[0].sku_tier", "unknown key"),
    "basic public ip": (
        [("resources.public_ips.0.sku", "Basic")],
        "resources.public_ips[0].sku", "Input should be 'Standard'"),
}


@pytest.mark.parametrize("edits,key,message", CASES.values(), ids=CASES.keys())
def test_each_problem_names_the_file_and_the_key(tmp_path, edits, key, message):
    data = copy.deepcopy(LAB)
    for dotted, value in edits:
        if isinstance(value, str) and value in APPEND:
            data["resources"][dotted.split(".")[1]].append(APPEND[value])
        else:
            _set(data, dotted, value)
    problems = _problems(tmp_path, data)
    assert [p.key for p in problems] == [key], problems
    assert message in problems[0].problem
    assert str(problems[0]).startswith(f"inventories/town/azure.yml: {key}: ")


def test_allow_internet_admin_with_a_reason_is_accepted(tmp_path):
    data = copy.deepcopy(LAB)
    rule = data["resources"]["network_security_groups"][0]["rules"][1]
    rule.update(source="*", allow_internet_admin=True,
                reason="vendor support session, removed after ticket 4711")
    assert _problems(tmp_path, data) == []


def test_the_same_priority_in_the_other_direction_is_fine(tmp_path):
    data = copy.deepcopy(LAB)
    data["resources"]["network_security_groups"][0]["rules"].append(
        {"name": "deny-out", "priority": 100, "direction": "Outbound", "access": "Deny",
         "protocol": "*", "source": "*", "destination": "Internet", "destination_ports": "*"})
    assert _problems(tmp_path, data) == []


def test_all_problems_are_reported_at_once(tmp_path):
    data = copy.deepcopy(LAB)
    _set(data, "resources.virtual_networks.0.subnets.2.prefix", "10.20.3.240/28")
    _set(data, "resources.network_security_groups.0.rules.2.priority", 5000)
    _set(data, "resources.virtual_machines.0.admin_password", "x")
    # field problems come first: cross-field checks need a spec that parses
    assert [p.key for p in _problems(tmp_path, data)] == [f"{RULES}[2].priority"]
    _set(data, "resources.network_security_groups.0.rules.2.priority", 4000)
    assert {p.key for p in _problems(tmp_path, data)} == {
        f"{VNET}.subnets[2].prefix", f"{VM}.admin_password"}


def test_the_password_never_appears_in_a_problem(tmp_path):
    data = copy.deepcopy(LAB)
    _set(data, "resources.virtual_machines.0.admin_password", "Library2026!")
    assert "Library2026!" not in "\n".join(map(str, _problems(tmp_path, data)))


# --- the file itself: what reaches ARM's token, what the loader may echo ------------------------


def _raw_problems(tmp_path: Path, text: str | bytes) -> list[spec.Problem]:
    site = tmp_path / "inventories" / "town"
    site.mkdir(parents=True, exist_ok=True)
    file = site / "azure.yml"
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    return spec.check_site(site)


LAB_TEXT = (REPO / "inventories/lab/azure.yml").read_text()


@pytest.mark.parametrize("endpoint", [
    "https://management.azure.com.evil.example", "https://managment.azure.com",
    "http://management.azure.com", "https://127.0.0.1:8443", "https://10.0.0.5",
    "https://management.azure.com/../x"])
def test_an_endpoint_that_is_not_arm_is_refused(tmp_path, endpoint):
    problems = _raw_problems(tmp_path, LAB_TEXT.replace("endpoint: standin",
                                                        f"endpoint: {endpoint!r}"))
    assert [p.key for p in problems] == ["endpoint"], problems
    assert "not one of Azure's management endpoints" in problems[0].problem
    assert "https://management.usgovcloudapi.net" in problems[0].problem


@pytest.mark.parametrize("endpoint", ["https://management.azure.com",
                                      "https://management.usgovcloudapi.net/",
                                      "https://management.chinacloudapi.cn"])
def test_azure_clouds_management_endpoints_are_accepted(tmp_path, endpoint):
    assert _raw_problems(tmp_path, LAB_TEXT.replace("endpoint: standin",
                                                    f"endpoint: {endpoint}")) == []


@pytest.mark.parametrize(("needle", "duplicate"), [
    ("      size: Standard_B2s\n", "      size: Standard_B2s\n      size: Standard_E64s_v5\n"),
    ("location: East US\n", "location: East US\nlocation: West Europe\n")])
def test_a_duplicate_key_is_refused_with_its_line(tmp_path, needle, duplicate):
    assert needle in LAB_TEXT
    problems = _raw_problems(tmp_path, LAB_TEXT.replace(needle, duplicate, 1))
    assert len(problems) == 1, problems
    assert problems[0].key.startswith("line ")
    assert "duplicate key" in problems[0].problem


def test_a_syntax_error_never_echoes_the_line_holding_a_password(tmp_path):
    text = LAB_TEXT + "secret_bit: 'Hunter2Library!\n  admin_password: [Hunter2Library!\n"
    problems = _raw_problems(tmp_path, text)
    assert len(problems) == 1 and problems[0].key.startswith("line ")
    assert "Hunter2Library" not in str(problems[0])


def test_a_tab_is_named_as_a_tab(tmp_path):
    problems = _raw_problems(tmp_path, LAB_TEXT.replace("  owner:", "\towner:", 1))
    assert len(problems) == 1
    assert "tab" in problems[0].problem and "spaces" in problems[0].problem


def test_invalid_utf8_is_a_problem_not_a_traceback(tmp_path):
    problems = _raw_problems(tmp_path, LAB_TEXT.encode() + b"# caf\xe9\n")
    assert [(p.key, p.problem) for p in problems] == [
        ("file", f"not UTF-8 text (byte 0xe9 at offset {len(LAB_TEXT.encode()) + 5})")]
