"""Where things sit in the network of an Azure spec: address spaces, subnets, NSG rules, NICs.

Cross-field checks of :mod:`libraryops.cloud.spec` (which calls them from
:func:`libraryops.cloud.spec.semantic_problems`), each returning (dotted key, message) pairs.
Sources: NSG rule priorities 100-4096, unique per direction
(learn.microsoft.com/azure/virtual-network/network-security-groups-overview); ``GatewaySubnet``
/27 or larger, without an NSG or a NIC
(learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#gwsub); the rest
in :mod:`libraryops.cloud.arm_limits`.
"""

from __future__ import annotations

import ipaddress
from itertools import combinations
from typing import TYPE_CHECKING

from libraryops import exposure
from libraryops.cloud import arm_limits

if TYPE_CHECKING:
    from libraryops.cloud.spec import AzureSpec, Rule, VirtualNetwork

#: Azure's gateway subnet name (ARM compares resource names without case).
GATEWAY_SUBNET = "GatewaySubnet"
GATEWAY_MAX_PREFIXLEN = 27
#: Administration ports and the protocols they answer on: SSH, and RDP (TCP, and UDP since
#: RDP 8.0's UDP transport).
ADMIN_PORTS = {22: ("Tcp",), 3389: ("Tcp", "Udp")}
#: NSG source words that mean everyone (ARM's ``*`` and ``Any``, the ``Internet`` service tag).
INTERNET_WORDS = frozenset({"*", "internet", "any"})
#: Service tags whose addresses any Azure customer's VM can have (``AzureCloud``: every public
#: IP address of Azure's datacenters, per Microsoft Learn "Virtual network service tags"), so
#: as a source of an admin port they are the Internet too, in any region (``AzureCloud.<region>``).
TENANT_WIDE_TAGS = frozenset({"azurecloud"})


def _is_gateway(name: str) -> bool:
    """Whether a subnet is Azure's gateway subnet: its name, compared without case as ARM
    compares names (the safe side: "gatewaysubnet" gets the gateway subnet's limits too)."""
    return name.lower() == GATEWAY_SUBNET.lower()


def address_problems(vnets: list[VirtualNetwork]) -> list[tuple[str, str]]:
    """Address spaces that overlap each other or a range Azure keeps; subnets outside their
    VNet, overlapping, or of a size Azure does not create (GatewaySubnet: /27 or larger).

    Args:
        vnets: the spec's virtual networks.
    Returns:
        (dotted key, ``problem (allowed: ...)``) pairs.
    """
    problems = []
    spaces = [(f"resources.virtual_networks[{i}].address_space[{j}]", ipaddress.IPv4Network(p))
              for i, vnet in enumerate(vnets) for j, p in enumerate(vnet.address_space)]
    for (key_a, net_a), (key_b, net_b) in combinations(spaces, 2):
        if net_a.overlaps(net_b):
            problems.append((key_b, f"{net_b} overlaps {net_a} at {key_a} (allowed: address "
                             "spaces that do not overlap, so networks can be connected)"))
    for key, net in spaces:
        problem = arm_limits.forbidden_overlap(net)
        if problem:
            problems.append((key, f"{net} {problem}"))
    low, high = arm_limits.SUBNET_PREFIXLEN
    for i, vnet in enumerate(vnets):
        space = [ipaddress.IPv4Network(p) for p in vnet.address_space]
        subnets = [(f"resources.virtual_networks[{i}].subnets[{k}]", s,
                    ipaddress.IPv4Network(s.prefix)) for k, s in enumerate(vnet.subnets)]
        for key, subnet, net in subnets:
            if not any(net.subnet_of(outer) for outer in space):
                problems.append((f"{key}.prefix", f"{net} is outside the virtual network "
                                 f"(allowed: inside {', '.join(vnet.address_space)})"))
            if not low <= net.prefixlen <= high:
                problems.append((f"{key}.prefix", f"a /{net.prefixlen} subnet, which Azure "
                                 f"does not create (allowed: /{low} to /{high}; Azure keeps 5 "
                                 "addresses of each)"))
            elif _is_gateway(subnet.name) and net.prefixlen > GATEWAY_MAX_PREFIXLEN:
                problems.append((f"{key}.prefix", f"{GATEWAY_SUBNET} {net} is too small for a "
                                 f"VPN gateway (allowed: /{GATEWAY_MAX_PREFIXLEN} or larger)"))
        for (key_a, _, net_a), (key_b, _, net_b) in combinations(subnets, 2):
            if net_a.overlaps(net_b):
                problems.append((f"{key_b}.prefix", f"{net_b} overlaps {net_a} at {key_a} "
                                 "(allowed: subnets that do not overlap)"))
    return problems


def subnet_problems(vnets: list[VirtualNetwork]) -> list[tuple[str, str]]:
    """Subnet names unique in their VNet (ARM compares names without case); no NSG on
    GatewaySubnet (arm_limits, GATEWAY)."""
    problems = []
    for i, vnet in enumerate(vnets):
        seen: dict[str, int] = {}
        for k, subnet in enumerate(vnet.subnets):
            key = f"resources.virtual_networks[{i}].subnets[{k}]"
            first = seen.setdefault(subnet.name.casefold(), k)
            if first != k:
                problems.append((f"{key}.name", f"{subnet.name!r} is already a subnet of this "
                                 f"virtual network at subnets[{first}] (allowed: subnet names "
                                 "unique in their virtual network)"))
            if _is_gateway(subnet.name) and subnet.network_security_group is not None:
                problems.append((f"{key}.network_security_group", f"an NSG on {GATEWAY_SUBNET}, "
                                 "which the VPN gateway does not support (allowed: none; "
                                 "filter traffic on the other subnets' NSGs)"))
    return problems


def _covers_admin_port(ports: list[str], protocol: str) -> list[int]:
    covered = []
    for port, protocols in ADMIN_PORTS.items():
        if protocol != "*" and protocol not in protocols:
            continue
        for item in ports:
            low, _, high = item.partition("-")
            if item == "*" or int(low) <= port <= int(high or low):
                covered.append(port)
                break
    return covered


def _internet(sources: list[str]) -> str:
    """How ``sources`` reach the Internet: the word that means everyone, or the IP versions in
    which the union of the prefixes is too public (:func:`libraryops.exposure.too_public`);
    "" when they do not."""
    word = next((s for s in sources if s.strip().lower() in INTERNET_WORDS
                 or s.strip().lower().partition(".")[0] in TENANT_WIDE_TAGS), None)
    if word is not None:
        return repr(word)
    return " and ".join(exposure.too_public(sources))


def rule_problems(key: str, rules: list[Rule]) -> list[tuple[str, str]]:
    """One NSG's rules: at most :data:`arm_limits.RULES_PER_NSG`, names unique, priorities
    unique per direction, and no admin port open to the Internet without a reason.

    Args:
        key: the NSG's dotted key (``resources.network_security_groups[0]``).
        rules: its rules.
    Returns:
        (dotted key, ``problem (allowed: ...)``) pairs.
    """
    problems = []
    if len(rules) > arm_limits.RULES_PER_NSG:
        problems.append((f"{key}.rules", f"{len(rules)} rules (allowed: at most "
                         f"{arm_limits.RULES_PER_NSG} per NSG)"))
    seen: dict[tuple[str, int], int] = {}
    names: dict[str, int] = {}
    for j, rule in enumerate(rules):
        rule_key = f"{key}.rules[{j}]"
        first_name = names.setdefault(rule.name.casefold(), j)
        if first_name != j:
            problems.append((f"{rule_key}.name", f"{rule.name!r} is already the name of "
                             f"rules[{first_name}] in this NSG (allowed: rule names unique in "
                             "their NSG)"))
        first = seen.setdefault((rule.direction, rule.priority), j)
        if first != j:
            problems.append((f"{rule_key}.priority", f"priority {rule.priority} is already used "
                             f"by {rules[first].name!r} (rules[{first}]) for {rule.direction} "
                             "(allowed: unique per direction)"))
        ports = _covers_admin_port(rule.destination_ports, rule.protocol)
        internet = _internet(rule.source)
        if (rule.direction == "Inbound" and rule.access == "Allow" and ports and internet
                and not rule.allow_internet_admin):
            problems.append((rule_key, f"allows port {'/'.join(map(str, ports))} from the "
                             f"Internet ({internet}) (allowed: a narrower source, "
                             f"{exposure.limit_text()}; or allow_internet_admin: true with a "
                             "reason)"))
        if rule.allow_internet_admin and not (rule.reason or "").strip():
            problems.append((f"{rule_key}.reason", "allow_internet_admin needs a reason "
                             "(allowed: a sentence Town IT can review)"))
    return problems


def nic_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    """Where a NIC may be: not in GatewaySubnet (arm_limits, GATEWAY); a static private address
    inside its subnet, none of Azure's 5 reserved ones (arm_limits, SUBNETS), used by no other
    NIC; a public IP on one NIC only. A NIC whose subnet is not declared is left to
    :func:`libraryops.cloud.spec._reference_problems`."""
    res = spec.resources
    subnets = {f"{v.name}/{s.name}": (s.name, ipaddress.IPv4Network(s.prefix))
               for v in res.virtual_networks for s in v.subnets}
    problems = []
    addresses: dict[ipaddress.IPv4Address, int] = {}
    public_ips: dict[str, int] = {}
    for i, nic in enumerate(res.network_interfaces):
        key = f"resources.network_interfaces[{i}]"
        if nic.public_ip is not None:
            first = public_ips.setdefault(nic.public_ip, i)
            if first != i:
                problems.append((f"{key}.public_ip", f"{nic.public_ip!r} is already the public "
                                 f"IP of network_interfaces[{first}] (allowed: one NIC per "
                                 "public IP)"))
        if nic.subnet not in subnets:
            continue
        name, net = subnets[nic.subnet]
        if _is_gateway(name):
            problems.append((f"{key}.subnet", f"a NIC in {GATEWAY_SUBNET}, which holds the VPN "
                             "gateway only (allowed: any other subnet)"))
        if nic.private_ip is None or net.prefixlen > arm_limits.SUBNET_PREFIXLEN[1]:
            continue  # a subnet too small for Azure is reported at its prefix
        address = ipaddress.IPv4Address(nic.private_ip)
        reserved = arm_limits.reserved_addresses(net)
        if address not in net:
            problems.append((f"{key}.private_ip", f"{address} is outside its subnet {net} "
                             f"(allowed: {net[4]}-{net[-2]})"))
        elif address in reserved:
            problems.append((f"{key}.private_ip", f"{address} is the {reserved[address]} of "
                             f"{net}, which Azure keeps (allowed: {net[4]}-{net[-2]})"))
        else:
            first = addresses.setdefault(address, i)
            if first != i:
                problems.append((f"{key}.private_ip", f"{address} is already the address of "
                                 f"network_interfaces[{first}] (allowed: one NIC per address)"))
    return problems


def vm_nic_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    """A NIC attached to one VM only, and every NIC of a VM in one virtual network (ARM's rule
    for a VM with several NICs: learn.microsoft.com/azure/virtual-network/
    virtual-network-network-interface-vm, Constraints)."""
    res = spec.resources
    vnet_of = {n.name: n.subnet.split("/")[0] for n in res.network_interfaces}
    problems = []
    owner: dict[str, int] = {}
    for i, vm in enumerate(res.virtual_machines):
        vnets: dict[str, str] = {}
        for m, nic in enumerate(vm.network_interfaces):
            key = f"resources.virtual_machines[{i}].network_interfaces[{m}]"
            first = owner.setdefault(nic, i)
            if first != i:
                problems.append((key, f"{nic!r} is already attached to virtual_machines[{first}] "
                                 "(allowed: one VM per NIC)"))
            elif nic in vm.network_interfaces[:m]:
                problems.append((key, f"{nic!r} is listed twice (allowed: each NIC once)"))
            if nic in vnet_of:
                vnets.setdefault(vnet_of[nic], key)
        if len(vnets) > 1:
            problems.append((f"resources.virtual_machines[{i}].network_interfaces",
                             f"NICs in {len(vnets)} virtual networks (allowed: every NIC of a "
                             "VM in one virtual network)"))
    return problems
