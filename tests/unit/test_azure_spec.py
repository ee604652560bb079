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
    "append-link-local-vnet": {"name": "vnet-other", "resource_group": "rg-library-lab",
                               "address_space": ["169.254.0.0/24"]},
    "append-vm-on-nic-libki": {**LAB["resources"]["virtual_machines"][0], "name": "vm-other"},
    "append-nic-on-pip-libki": {"name": "nic-other", "resource_group": "rg-library-lab",
                                "subnet": "vnet-library-lab/servers", "public_ip": "pip-libki",
                                "private_ip": "10.20.0.11"},
    "append-nic-on-10.20.0.10": {"name": "nic-other", "resource_group": "rg-library-lab",
                                 "subnet": "vnet-library-lab/servers", "private_ip": "10.20.0.10"},
    "append-nic-ending-in-a-period": {"name": "nic-other.", "resource_group": "rg-library-lab",
                                      "subnet": "vnet-library-lab/servers"},
    "append-nsg-ending-in-a-hyphen": {"name": "nsg-other-", "resource_group": "rg-library-lab"},
}
NIC = "resources.network_interfaces[0]"
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
    "ssh from every azure customer": (
        [("resources.network_security_groups.0.rules.1.source", "AzureCloud")],
        f"{RULES}[1]", "allows port 22 from the Internet ('AzureCloud')"),
    "rdp from every azure customer of a region": (
        [("resources.network_security_groups.0.rules.1.source", "AzureCloud.EastUS"),
         ("resources.network_security_groups.0.rules.1.destination_ports", [3389])],
        f"{RULES}[1]", "allows port 3389 from the Internet ('AzureCloud.EastUS')"),
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
    # --- what ARM refuses half-way through an apply (libraryops.cloud.arm_limits) -------------
    "nsg on GatewaySubnet": (
        [("resources.virtual_networks.0.subnets.2.network_security_group", "nsg-mgmt")],
        f"{VNET}.subnets[2].network_security_group", "an NSG on GatewaySubnet"),
    "nsg on a gateway subnet named in lower case": (
        [("resources.virtual_networks.0.subnets.2.name", "gatewaysubnet"),
         ("resources.virtual_networks.0.subnets.2.network_security_group", "nsg-mgmt")],
        f"{VNET}.subnets[2].network_security_group", "an NSG on GatewaySubnet"),
    "nic in GatewaySubnet": (
        [("resources.network_interfaces.0.subnet", "vnet-library-lab/GatewaySubnet"),
         ("resources.network_interfaces.0.private_ip", "10.20.3.230")],
        f"{NIC}.subnet", "a NIC in GatewaySubnet"),
    "nic address outside its subnet": (
        [("resources.network_interfaces.0.private_ip", "10.20.1.10")],
        f"{NIC}.private_ip", "10.20.1.10 is outside its subnet 10.20.0.0/24 (allowed: "
        "10.20.0.4-10.20.0.254)"),
    "nic address not an address": (
        [("resources.network_interfaces.0.private_ip", "10.20.0.x")],
        f"{NIC}.private_ip", "not an IPv4 address"),
    "two nics on one address": (
        [("resources.network_interfaces", "append-nic-on-10.20.0.10")],
        "resources.network_interfaces[1].private_ip",
        "10.20.0.10 is already the address of network_interfaces[0]"),
    "one public ip on two nics": (
        [("resources.network_interfaces", "append-nic-on-pip-libki")],
        "resources.network_interfaces[1].public_ip", "'pip-libki' is already the public IP of "
        "network_interfaces[0] (allowed: one NIC per public IP)"),
    "one nic on two vms": (
        [("resources.virtual_machines", "append-vm-on-nic-libki")],
        "resources.virtual_machines[1].network_interfaces[0]",
        "'nic-libki' is already attached to virtual_machines[0] (allowed: one VM per NIC)"),
    "subnet smaller than /29": (
        [("resources.virtual_networks.0.subnets.1.prefix", "10.20.1.0/30")],
        f"{VNET}.subnets[1].prefix", "a /30 subnet, which Azure does not create (allowed: /2 "
        "to /29"),
    "nic in a subnet too small for Azure": (
        [("resources.virtual_networks.0.subnets.0.prefix", "10.20.0.0/30")],
        f"{VNET}.subnets[0].prefix", "a /30 subnet"),
    "address space Azure keeps": (
        [("resources.virtual_networks", "append-link-local-vnet")],
        "resources.virtual_networks[1].address_space[0]", "169.254.0.0/24 overlaps "
        "169.254.0.0/16 (link-local)"),
    "dns server not an address": (
        [("resources.virtual_networks.0.dns_servers", ["dns.town.invalid"])],
        f"{VNET}.dns_servers[0]", "not an IPv4 address"),
    "two subnets with one name": (
        [("resources.virtual_networks.0.subnets.1.name", "Servers")],
        f"{VNET}.subnets[1].name", "'Servers' is already a subnet of this virtual network at "
        "subnets[0]"),
    "two rules with one name in an NSG": (
        [("resources.network_security_groups.0.rules.1.name", "allow-libki-from-town")],
        f"{RULES}[1].name", "'allow-libki-from-town' is already the name of rules[0] in this NSG"),
    "nsg name ending in a hyphen": (
        [("resources.network_security_groups", "append-nsg-ending-in-a-hyphen")],
        "resources.network_security_groups[2].name", "not an Azure network security group name "
        "(allowed: 1-80 characters: letters, digits, '_', '.', '-'; starting with a letter or "
        "digit, ending with a letter, digit or '_')"),
    "nic name ending in a period": (
        [("resources.network_interfaces", "append-nic-ending-in-a-period")],
        "resources.network_interfaces[1].name", "not an Azure NIC name"),
    "vnet name of one character": (
        [("resources.virtual_networks.0.name", "v"),
         ("resources.network_interfaces.0.subnet", "v/servers")],
        f"{VNET}.name", "not an Azure virtual network name (allowed: 2-64 characters"),
    "vm name with an underscore": (
        [("resources.virtual_machines.0.name", "vm_libki")],
        f"{VM}.name", "not an Azure virtual machine name (allowed: 1-64 characters: letters, "
        "digits, '-', '.'; starting and ending with a letter or digit; no '_'"),
    "unknown region": (
        [("location", "westeurop")],
        "location", "not an Azure region of AZURE_PUBLIC_CLOUD; did you mean westeurope?"),
    "misspelt service tag": (
        [("resources.network_security_groups.0.rules.2.source", "Internt")],
        f"{RULES}[2].source", "not '*', an IPv4 address or prefix, or a service tag of "
        "libraryops/data/azure_service_tags.json; did you mean Internet?"),
    "service tag with a region that does not exist": (
        [("resources.network_security_groups.0.rules.2.destination", "Storage.Atlantis")],
        f"{RULES}[2].destination", "or a service tag of libraryops/data/azure_service_tags.json"),
    "service tag that has no regional form": (
        [("resources.network_security_groups.0.rules.2.source", "Internet.WestEurope")],
        f"{RULES}[2].source", "or a service tag of"),
    "service tag together with prefixes": (
        [("resources.network_security_groups.0.rules.2.source", ["Internet", "192.0.2.0/24"])],
        f"{RULES}[2].source", "'*' or a service tag together with other entries"),
    "rule description over 140 characters": (
        [("resources.network_security_groups.0.rules.0.description", "x" * 141)],
        f"{RULES}[0].description", "141 characters (allowed: at most 140)"),
    "admin user azure refuses": (
        [("resources.virtual_machines.0.admin_user", "root")],
        f"{VM}.admin_user", "a user name Azure refuses for the admin account"),
    "custom data over 64 KiB": (
        [("resources.virtual_machines.0.custom_data", "#cloud-config\n" + "#" * 65535)],
        f"{VM}.custom_data", "65549 bytes (allowed: at most 65535 bytes"),
    "tag name over 512 characters": (
        [("resources.public_ips.0.tags", {"n" * 513: "x"})],
        f"resources.public_ips[0].tags.{'n' * 40}...", "tag name of 513 characters (allowed: at "
        "most 512)"),
    "tag value over 256 characters": (
        [("resources.virtual_machines.0.tags.role", "v" * 257)],
        f"{VM}.tags.role", "tag value of 257 characters (allowed: at most 256)"),
    "tag name with a character azure refuses": (
        [("tags.cost/center", "library")],
        "tags.cost/center", "tag name with a character Azure refuses (allowed: any except "
        "< > % & \\ ? /)"),
    "over 50 tags on a resource": (
        [("resources.virtual_machines.0.tags", {f"t{n}": "x" for n in range(46)})],
        f"{VM}.tags", "51 tags including the spec-wide and libraryops' own (allowed: at most 50 "
        "per resource)"),
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


@pytest.mark.parametrize(("endpoint", "location"), [
    ("https://management.azure.com", "East US"),
    ("https://management.usgovcloudapi.net/", "usgovvirginia"),
    ("https://management.chinacloudapi.cn", "China North 3")])
def test_azure_clouds_management_endpoints_are_accepted(tmp_path, endpoint, location):
    text = LAB_TEXT.replace("endpoint: standin", f"endpoint: {endpoint}")
    assert _raw_problems(tmp_path, text.replace("location: East US", f"location: {location}")) == []


def test_a_region_of_another_cloud_is_refused(tmp_path):
    problems = _raw_problems(tmp_path, LAB_TEXT.replace(
        "endpoint: standin", "endpoint: https://management.chinacloudapi.cn"))
    assert [p.key for p in problems] == ["location"]
    assert "a region of AZURE_PUBLIC_CLOUD, not of the endpoint's cloud" in problems[0].problem


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


# --- what ARM refuses, beyond one key per case ------------------------------------------------


@pytest.mark.parametrize(("address", "what"), [
    ("10.20.0.0", "network address"), ("10.20.0.1", "default gateway"),
    ("10.20.0.2", "Azure DNS"), ("10.20.0.3", "Azure DNS"), ("10.20.0.255", "broadcast address")])
def test_a_nic_on_an_address_azure_keeps_is_refused(tmp_path, address, what):
    data = copy.deepcopy(LAB)
    _set(data, "resources.network_interfaces.0.private_ip", address)
    problems = _problems(tmp_path, data)
    assert [p.key for p in problems] == ["resources.network_interfaces[0].private_ip"]
    assert problems[0].problem == (f"{address} is the {what} of 10.20.0.0/24, which Azure keeps "
                                   "(allowed: 10.20.0.4-10.20.0.254)")


def test_the_first_and_last_usable_addresses_and_a_29_are_accepted(tmp_path):
    data = copy.deepcopy(LAB)
    _set(data, "resources.virtual_networks.0.subnets.1.prefix", "10.20.1.0/29")
    data["resources"]["network_interfaces"].append(
        {"name": "nic-mgmt", "resource_group": "rg-library-lab",
         "subnet": "vnet-library-lab/mgmt", "private_ip": "10.20.1.6"})
    _set(data, "resources.network_interfaces.0.private_ip", "10.20.0.4")
    assert _problems(tmp_path, data) == []
    _set(data, "resources.network_interfaces.0.private_ip", "10.20.0.254")
    assert _problems(tmp_path, data) == []


def test_a_resource_group_name_ending_in_a_period_is_refused(tmp_path):
    problems = _raw_problems(tmp_path, LAB_TEXT.replace("rg-library-lab", "rg-library-lab."))
    assert "resource_groups[0].name" in {p.key for p in problems}
    assert all(p.key.endswith(("resource_group", ".name")) for p in problems), problems
    assert all("not an Azure resource group name (allowed: 1-90 characters: letters (Unicode "
               "too), digits, '_', '(', ')', '-', '.'; not ending with '.')" in p.problem
               for p in problems)


@pytest.mark.parametrize("name", ["rg-bibliothèque(lab)", "RG_1", "r", "rg.lab.1", "g" * 90])
def test_resource_group_names_arm_takes_are_accepted(tmp_path, name):
    assert _raw_problems(tmp_path, LAB_TEXT.replace("rg-library-lab", name)) == []


@pytest.mark.parametrize("name", ["g" * 91, "rg lab", "rg#lab", "rg/lab", ""])
def test_resource_group_names_arm_refuses_are_refused(tmp_path, name):
    problems = _raw_problems(tmp_path, LAB_TEXT.replace("rg-library-lab", repr(name)))
    assert "resource_groups[0].name" in {p.key for p in problems}


@pytest.mark.parametrize("address", [
    "Storage.WestEurope", "storage.westeurope", "Sql.EastUS2", "AzureCloud.eastus",
    "AzureFrontDoor.Backend", "VirtualNetwork", "AzureLoadBalancer", "192.0.2.7",
    ["192.0.2.7", "198.51.100.0/24"]])
def test_service_tags_and_addresses_are_accepted_as_a_destination(tmp_path, address):
    data = copy.deepcopy(LAB)
    _set(data, "resources.network_security_groups.0.rules.2.destination", address)
    assert _problems(tmp_path, data) == []


@pytest.mark.parametrize("location", ["West Europe", "westeurope", "swedencentral", "EastUS2"])
def test_regions_by_name_or_display_name_are_accepted(tmp_path, location):
    assert _raw_problems(tmp_path, LAB_TEXT.replace("location: East US",
                                                    f"location: {location}")) == []


def test_the_nics_of_one_vm_in_two_vnets_are_refused(tmp_path):
    data = copy.deepcopy(LAB)
    data["resources"]["virtual_networks"].append(
        {"name": "vnet-other", "resource_group": "rg-library-lab",
         "address_space": ["10.21.0.0/24"],
         "subnets": [{"name": "servers", "prefix": "10.21.0.0/24"}]})
    data["resources"]["network_interfaces"].append(
        {"name": "nic-other", "resource_group": "rg-library-lab", "subnet": "vnet-other/servers"})
    _set(data, "resources.virtual_machines.0.network_interfaces", ["nic-libki", "nic-other"])
    problems = _problems(tmp_path, data)
    assert [(p.key, p.problem) for p in problems] == [(
        f"{VM}.network_interfaces", "NICs in 2 virtual networks (allowed: every NIC of a VM in "
        "one virtual network)")]


def test_long_tag_values_and_custom_data_are_never_quoted(tmp_path):
    for dotted, value in [("resources.virtual_machines.0.tags.role", "Sekrit" * 50),
                          ("resources.virtual_machines.0.custom_data", "Sekrit" * 11000)]:
        data = copy.deepcopy(LAB)
        _set(data, dotted, value)
        problems = _problems(tmp_path, data)
        assert len(problems) == 1 and "Sekrit" not in str(problems[0])


def test_over_1000_rules_in_an_nsg_are_refused(tmp_path):
    data = copy.deepcopy(LAB)
    data["resources"]["network_security_groups"][1]["rules"] = [
        {"name": f"deny-{n}", "priority": 100 + n, "direction": "Inbound", "access": "Deny",
         "protocol": "*", "source": f"192.0.2.{n % 256}", "destination_ports": "*"}
        for n in range(1001)]
    problems = _problems(tmp_path, data)
    assert [(p.key, p.problem) for p in problems] == [(
        "resources.network_security_groups[1].rules", "1001 rules (allowed: at most 1000 per NSG)")]
