"""The ARM stand-in's resources: the subscription's state and what ARM adds to a resource.

The stored resources (JSON in the stand-in's state directory, so separate processes see one
subscription), ARM's error answers, and the shaping of a resource the way Azure Resource Manager
returns it: ids of children, an NSG's default rules, a public IP's address, locations normalised,
resource-group segments of references upper-cased. The HTTP side is :mod:`libraryops.cloud.standin`.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

_CHILDREN = ("subnets", "securityRules", "ipConfigurations")
_RG_SEGMENT = re.compile(r"(/resourceGroups/)([^/]+)", re.IGNORECASE)
_DEFAULT_RULES = (  # (name, priority, direction, access, source, destination)
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
)


class ArmError(Exception):
    """An ARM-style error answer: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message




class Subscription:
    """The stand-in's resources, keyed by lower-cased id, persisted to ``resources.json``.

    Handlers hold ``lock`` for the whole of a resource request.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.items: dict[str, dict[str, Any]] = (
            json.loads(path.read_text()) if path.is_file() else {}
        )

    def save(self) -> None:
        """Write the state atomically (call with the lock held)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.items, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    def get(self, rid: str) -> dict[str, Any] | None:
        """The resource with this id (any casing), or None."""
        return self.items.get(rid.lower())

    def exists(self, rid: str) -> bool:
        """Whether an id names a stored resource or a child of one (e.g. a subnet)."""
        parts = rid.rstrip("/").split("/")
        if len(parts) > 10 and parts[9] in _CHILDREN:  # .../providers/ns/type/name/<child>/n
            parent = self.get("/".join(parts[:9]))
            children = (parent or {}).get("properties", {}).get(parts[9], [])
            return any(c.get("name", "").lower() == parts[10].lower() for c in children)
        return self.get(rid) is not None

    def referrers(self, rid: str) -> list[str]:
        """Ids of resources holding a reference to ``rid`` or to one of its children."""
        prefix = rid.lower()
        found = []
        for key, item in self.items.items():
            if key != prefix and any(
                ref == prefix or ref.startswith(prefix + "/") for ref in references(item)
            ):
                found.append(item["id"])
        return found


def references(node: Any) -> list[str]:
    """Lower-cased ids of the references (dicts with an ``id`` and no ``name``) in a resource."""
    refs: list[str] = []
    if isinstance(node, dict):
        if "id" in node and "name" not in node:
            refs.append(str(node["id"]).lower())
        for key, value in node.items():
            if key != "id":
                refs.extend(references(value))
    elif isinstance(node, list):
        for value in node:
            refs.extend(references(value))
    return refs


def upper_rg(node: Any) -> None:
    """Upper-case the resource-group segment of every reference, as ARM often returns them."""
    if isinstance(node, dict):
        if "id" in node and "name" not in node:
            node["id"] = _RG_SEGMENT.sub(lambda m: m.group(1) + m.group(2).upper(), node["id"])
        for key, value in node.items():
            if key != "id":
                upper_rg(value)
    elif isinstance(node, list):
        for value in node:
            upper_rg(value)


def new_etag() -> str:
    """A fresh weak ETag, as ARM gives every resource and child on each write."""
    return f'W/"{uuid.uuid4()}"'


def shape(rtype: str, rid: str, props: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Add what ARM adds to a resource's properties, in place (see the module docstring)."""
    old_props = (old or {}).get("properties", {})
    kind = rtype.split("/")[-1].lower()
    for key in ("provisioningState", "resourceGuid", "defaultSecurityRules", "ipAddress", "vmId"):
        props.pop(key, None)
    if kind == "virtualnetworks" and "subnets" not in props and "subnets" in old_props:
        props["subnets"] = old_props["subnets"]
    for key in _CHILDREN:
        for child in props.get(key) or []:
            child.update(id=f"{rid}/{key}/{child['name']}", etag=new_etag(), type=f"{rtype}/{key}")
            child.setdefault("properties", {})["provisioningState"] = "Succeeded"
            if key == "securityRules":
                for plural in ("sourceAddressPrefixes", "destinationAddressPrefixes",
                               "sourcePortRanges", "destinationPortRanges"):
                    child["properties"].setdefault(plural, [])
    if kind == "networksecuritygroups":
        props["defaultSecurityRules"] = [
            {"name": name, "id": f"{rid}/defaultSecurityRules/{name}", "properties": {
                "priority": prio, "direction": direction, "access": access, "protocol": "*",
                "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                "sourcePortRange": "*", "destinationPortRange": "*",
                "provisioningState": "Succeeded"}}
            for name, prio, direction, access, src, dst in _DEFAULT_RULES
        ]
    if kind == "publicipaddresses":
        props["ipAddress"] = old_props.get("ipAddress") or f"203.0.113.{uuid.uuid4().int % 250 + 2}"
        props.setdefault("idleTimeoutInMinutes", 4)
    if kind == "virtualmachines":
        os_profile = props.get("osProfile") or {}
        if old and {"adminPassword", "customData"} & set(os_profile):
            raise ArmError(409, "PropertyChangeNotAllowed",
                           "Changing property 'osProfile' (adminPassword, customData) is not "
                           "allowed.")
        os_profile.pop("adminPassword", None)
        os_profile.pop("customData", None)
        props["vmId"] = old_props.get("vmId") or str(uuid.uuid4())
    props["provisioningState"] = "Succeeded"
    props["resourceGuid"] = old_props.get("resourceGuid") or str(uuid.uuid4())
    upper_rg(props)
