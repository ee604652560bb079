"""The bench's inventories (throwaway public PCs on the lab bridge) and its generated Azure spec.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from tools.bench.settings import (
    AZURE_RESOURCES,
    COPIED_GROUPS,
    FIRST_OFFSET,
    HOST_PREFIX,
    LAB_SITE,
    MAX_HOSTS,
    PROOF_HOSTS,
    BenchError,
)


def bench_hosts(network: ipaddress.IPv4Network, count: int,
                prefix: str = HOST_PREFIX, offset: int = FIRST_OFFSET) -> dict[str, str]:
    """``count`` bench host names -> their addresses in the lab subnet (``bench-pub-01`` ...).

    Raises:
        BenchError: more hosts than the bench's address range holds.
    """
    limit = MAX_HOSTS if prefix == HOST_PREFIX else PROOF_HOSTS
    if count > limit:
        raise BenchError(f"at most {limit} {prefix}* hosts (addresses .{offset}-"
                         f".{offset + limit - 1}); asked for {count}")
    return {f"{prefix}{i:02d}": str(network.network_address + offset + i - 1)
            for i in range(1, count + 1)}


def hosts_yaml(hosts: dict[str, str]) -> str:
    """A bench inventory's hosts.yml: every host a public PC of the lab's ``branch_main``."""
    lines = ["---",
             "# Written by tools.bench: throwaway bench hosts, removed when the run ends.",
             "all:", "  children:", "    public_pcs:", "      hosts:"]
    for name, address in hosts.items():
        lines += [f"        {name}:", f"          ansible_host: {address}"]
    lines += ["    branch_main:", "      hosts:"] + [f"        {name}:" for name in hosts]
    return "\n".join(lines) + "\n"


def write_site(state: Path) -> Path:
    """Copy the lab's public-PC group_vars and vault password file into ``state/site``."""
    site = state / "site"
    for group in COPIED_GROUPS:
        shutil.copytree(LAB_SITE / "group_vars" / group, site / "group_vars" / group)
    shutil.copy2(LAB_SITE / "vault-password.txt", site / "vault-password.txt")
    return site


def write_set(state: Path, name: str, hosts: dict[str, str]) -> Path:
    """A site directory ``state/sets/<name>`` listing ``hosts``, sharing ``state/site``."""
    directory = state / "sets" / name
    directory.mkdir(parents=True)
    (directory / "group_vars").symlink_to(state / "site" / "group_vars")
    (directory / "vault-password.txt").symlink_to(state / "site" / "vault-password.txt")
    (directory / "hosts.yml").write_text(hosts_yaml(hosts), encoding="utf-8")
    return directory


def lab_network() -> ipaddress.IPv4Network:
    """The lab subnet, from the lab site's ``lab__bridge_address``."""
    settings = yaml.safe_load((LAB_SITE / "group_vars" / "all" / "lab.yml").read_text())
    return ipaddress.IPv4Interface(settings["lab__bridge_address"]).network


# -- the Azure spec ------------------------------------------------------------------------------

#: A request line in the stand-in's log (``"GET /subscriptions/... HTTP/1.1" 200 -``).
_REQUEST_LINE = re.compile(r'"(?:GET|PUT|POST|PATCH|DELETE|HEAD) /')

#: A throwaway public key for the generated VMs (the stand-in runs no VM).
_BENCH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBench00 bench"


def azure_document(total: int = AZURE_RESOURCES, groups: int = 3) -> dict[str, Any]:
    """A valid ``azure.yml`` of exactly ``total`` plan items (resource groups included).

    Per group (one per branch): a virtual network with two subnets and two NSGs; then VMs with
    their NIC and public IP, round-robin over the groups, and lone public IPs for the rest.

    Raises:
        ValueError: ``total`` is below the groups with their networks (``4 * groups``).
    """
    if total < 4 * groups:
        raise ValueError(f"{total} resources: at least {4 * groups} for {groups} groups")
    names = [f"rg-bench-{i + 1}" for i in range(groups)]
    res: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "network_security_groups", "virtual_networks", "public_ips", "network_interfaces",
        "virtual_machines")}
    for i, rg in enumerate(names):
        for kind in ("servers", "mgmt"):
            res["network_security_groups"].append({
                "name": f"nsg-{kind}-{i + 1}", "resource_group": rg, "rules": [{
                    "name": "allow-https-from-town", "priority": 100, "direction": "Inbound",
                    "access": "Allow", "protocol": "Tcp", "source": "10.0.0.0/16",
                    "destination": f"10.{20 + i}.0.0/24", "destination_ports": [443]}]})
        res["virtual_networks"].append({
            "name": f"vnet-{i + 1}", "resource_group": rg, "address_space": [f"10.{20 + i}.0.0/22"],
            "subnets": [{"name": "servers", "prefix": f"10.{20 + i}.0.0/24",
                         "network_security_group": f"nsg-servers-{i + 1}"},
                        {"name": "mgmt", "prefix": f"10.{20 + i}.1.0/24",
                         "network_security_group": f"nsg-mgmt-{i + 1}"}]})
    left = total - groups - sum(len(v) for v in res.values())
    vm = 0
    while left >= 3:
        i, vm, left = vm % groups, vm + 1, left - 3
        rg = names[i]
        res["public_ips"].append({"name": f"pip-vm-{vm}", "resource_group": rg})
        res["network_interfaces"].append({
            "name": f"nic-vm-{vm}", "resource_group": rg, "subnet": f"vnet-{i + 1}/servers",
            "public_ip": f"pip-vm-{vm}"})
        res["virtual_machines"].append({
            "name": f"vm-{vm}", "resource_group": rg, "size": "Standard_B2s",
            "image": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2"},
            "admin_user": "libops", "ssh_public_key": _BENCH_KEY,
            "network_interfaces": [f"nic-vm-{vm}"]})
    for extra in range(left):
        res["public_ips"].append({"name": f"pip-spare-{extra + 1}", "resource_group": names[0]})
    return {"subscription_id": "00000000-0000-0000-0000-0000000be4c4", "endpoint": "standin",
            "location": "East US",
            "tags": {"owner": "bench@library.invalid", "cost-center": "library", "env": "bench"},
            "resource_groups": [{"name": rg} for rg in names], "resources": res}
