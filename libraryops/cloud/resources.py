"""The kinds of Azure resource libraryops manages, and the ARM bodies the spec asks for.

:data:`KINDS` is in dependency order (create and update in this order, delete in reverse): a
resource group before what it holds; an NSG before the subnet that uses it; a virtual network
before a NIC in one of its subnets; a public IP before its NIC; a NIC before its VM.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from libraryops.cloud.spec import MANAGED_BY, SITE_TAG, AzureSpec, Rule


@dataclass(frozen=True)
class Kind:
    """One resource kind and how to reach it through the SDK.

    Attributes:
        key: the spec key (``resources.<key>``; ``resource_groups`` at the top level).
        label: the kind for people ("network security group").
        arm_type: ARM's resource type ("Microsoft.Network/networkSecurityGroups").
        client: attribute of :class:`libraryops.cloud.clients.Clients` (network, compute,
            resources).
        group: the operations group on that client ("network_security_groups").
        create_only: body paths Azure cannot change on an existing resource; differences are
            reported as notes and never sent.
        write_only: body paths Azure never returns (sent at creation only, never compared).
    """

    key: str
    label: str
    arm_type: str
    client: str
    group: str
    create_only: tuple[tuple[str, ...], ...] = ()
    write_only: tuple[tuple[str, ...], ...] = ()

    @property
    def is_group(self) -> bool:
        """Whether this kind is the resource group itself."""
        return self.key == "resource_groups"

    def _ops(self, clients: Any) -> Any:
        return getattr(getattr(clients, self.client), self.group)

    def get(self, clients: Any, resource_group: str, name: str) -> Any:
        """GET the resource (raises azure.core.exceptions.ResourceNotFoundError if absent)."""
        if self.is_group:
            return self._ops(clients).get(name)
        return self._ops(clients).get(resource_group, name)

    def put(self, clients: Any, resource_group: str, name: str, body: dict[str, Any],
            headers: dict[str, str] | None = None) -> Any:
        """PUT the body and wait for the long-running operation; returns the SDK model.

        ``headers``: extra request headers (``If-Match`` / ``If-None-Match``)."""
        if self.is_group:
            return self._ops(clients).create_or_update(name, body, headers=headers or {})
        return self._ops(clients).begin_create_or_update(resource_group, name, body,
                                                         headers=headers or {}).result()

    def delete(self, clients: Any, resource_group: str, name: str,
               headers: dict[str, str] | None = None) -> None:
        """DELETE the resource and wait for the long-running operation.

        ``headers``: extra request headers (``If-Match``)."""
        if self.is_group:
            self._ops(clients).begin_delete(name, headers=headers or {}).result()
        else:
            self._ops(clients).begin_delete(resource_group, name, headers=headers or {}).result()


_OS_PROFILE = ("properties", "osProfile")
KINDS = (
    Kind("resource_groups", "resource group", "Microsoft.Resources/resourceGroups",
         "resources", "resource_groups"),
    Kind("network_security_groups", "network security group",
         "Microsoft.Network/networkSecurityGroups", "network", "network_security_groups"),
    Kind("virtual_networks", "virtual network", "Microsoft.Network/virtualNetworks",
         "network", "virtual_networks"),
    Kind("public_ips", "public IP", "Microsoft.Network/publicIPAddresses",
         "network", "public_ip_addresses"),
    Kind("network_interfaces", "network interface", "Microsoft.Network/networkInterfaces",
         "network", "network_interfaces"),
    Kind("virtual_machines", "virtual machine", "Microsoft.Compute/virtualMachines",
         "compute", "virtual_machines",
         create_only=(_OS_PROFILE, ("properties", "storageProfile")),
         write_only=((*_OS_PROFILE, "customData"), (*_OS_PROFILE, "adminPassword"))),
)
KIND_BY_KEY = {kind.key: kind for kind in KINDS}
KIND_BY_TYPE = {kind.arm_type.lower(): kind for kind in KINDS}


def is_managed(tags: dict[str, str] | None, site: str) -> bool:
    """Whether a resource carries libraryops' management tag for this site."""
    tags = tags or {}
    return tags.get(MANAGED_BY[0]) == MANAGED_BY[1] and tags.get(SITE_TAG) == site


@dataclass(frozen=True)
class Declared:
    """One resource the spec declares: its kind, group, name and desired ARM body."""

    kind: Kind
    resource_group: str
    name: str
    body: dict[str, Any]
    id: str

    @property
    def title(self) -> str:
        """``<group>/<name>`` (just the name for a resource group)."""
        return self.name if self.kind.is_group else f"{self.resource_group}/{self.name}"


def resource_id(subscription: str, kind: Kind, resource_group: str, name: str) -> str:
    """ARM id of a resource of ``kind``."""
    group = f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
    return group if kind.is_group else f"{group}/providers/{kind.arm_type}/{name}"


def declared(spec: AzureSpec, site: str) -> list[Declared]:
    """Every resource of the spec with its desired body, in dependency order."""
    res = spec.resources
    where = {(key, item.name): item.resource_group for key, items in res for item in items}

    def ref(key: str, name: str | None, child: str = "") -> dict[str, str] | None:
        if name is None:
            return None
        kind = KIND_BY_KEY[key]
        return {"id": resource_id(spec.subscription_id, kind, where[key, name], name) + child}

    def base(own_tags: dict[str, str]) -> dict[str, Any]:
        tags = {**spec.tags, **own_tags, MANAGED_BY[0]: MANAGED_BY[1], SITE_TAG: site}
        return {"location": spec.location, "tags": tags}

    bodies: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "resource_groups": [(rg.name, rg.name, base(rg.tags)) for rg in spec.resource_groups],
        "network_security_groups": [
            (n.resource_group, n.name, {**base(n.tags), "properties": {
                "securityRules": [_rule(rule) for rule in n.rules]}})
            for n in res.network_security_groups],
        "virtual_networks": [
            (v.resource_group, v.name, {**base(v.tags), "properties": {
                "addressSpace": {"addressPrefixes": list(v.address_space)},
                "dhcpOptions": {"dnsServers": list(v.dns_servers)},
                "subnets": [{"name": s.name, "properties": {
                    "addressPrefix": s.prefix,
                    "networkSecurityGroup": ref("network_security_groups",
                                                s.network_security_group)}}
                    for s in v.subnets]}})
            for v in res.virtual_networks],
        "public_ips": [
            (p.resource_group, p.name, {**base(p.tags), "sku": {"name": p.sku}, "properties": {
                "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}})
            for p in res.public_ips],
        "network_interfaces": [
            (n.resource_group, n.name, {**base(n.tags), "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": {
                    "primary": True,
                    "subnet": ref("virtual_networks", n.subnet.split("/")[0],
                                  f"/subnets/{n.subnet.split('/')[1]}"),
                    "publicIPAddress": ref("public_ips", n.public_ip),
                    **({"privateIPAllocationMethod": "Static", "privateIPAddress": n.private_ip}
                       if n.private_ip else {"privateIPAllocationMethod": "Dynamic"})}}],
                "networkSecurityGroup": ref("network_security_groups",
                                            n.network_security_group)}})
            for n in res.network_interfaces],
        "virtual_machines": [
            (vm.resource_group, vm.name, {**base(vm.tags), "properties": {
                "hardwareProfile": {"vmSize": vm.size},
                "storageProfile": {
                    "imageReference": vm.image.model_dump(),
                    "osDisk": {"name": f"{vm.name}-osdisk", "createOption": "FromImage",
                               "deleteOption": "Delete",
                               "managedDisk": {"storageAccountType": vm.os_disk_type}}},
                "osProfile": _os_profile(vm.name, vm.admin_user, vm.ssh_public_key or "",
                                         vm.custom_data),
                "networkProfile": {"networkInterfaces": [
                    {**ref("network_interfaces", nic), "properties": {"primary": i == 0}}
                    for i, nic in enumerate(vm.network_interfaces)]}}})
            for vm in res.virtual_machines],
    }
    return [Declared(kind, rg, name, body,
                     resource_id(spec.subscription_id, kind, rg, name))
            for kind in KINDS for rg, name, body in bodies[kind.key]]


def _one_or_many(singular: str, values: list[str]) -> dict[str, Any]:
    """Both ARM spellings, so a change from one value to several clears the other."""
    one = len(values) == 1
    return {singular: values[0] if one else None, f"{singular}s": [] if one else values}


def _rule(rule: Rule) -> dict[str, Any]:
    return {"name": rule.name, "properties": {
        "priority": rule.priority, "direction": rule.direction, "access": rule.access,
        "protocol": rule.protocol, "description": rule.description,
        **_one_or_many("sourceAddressPrefix", rule.source),
        **_one_or_many("sourcePortRange", rule.source_ports),
        **_one_or_many("destinationAddressPrefix", rule.destination),
        **_one_or_many("destinationPortRange", rule.destination_ports),
    }}


def _os_profile(name: str, user: str, key: str, custom_data: str | None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "computerName": name, "adminUsername": user,
        "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
            {"path": f"/home/{user}/.ssh/authorized_keys", "keyData": key.strip()}]}},
    }
    if custom_data:
        profile["customData"] = base64.b64encode(custom_data.encode()).decode()
    return profile
