"""What Azure Resource Manager refuses, as data and small predicates: the one owner of each limit.

:mod:`libraryops.cloud.spec` applies them to ``azure.yml`` so that ``make validate`` refuses a
value ARM would refuse half-way through an apply. Each limit names its source; the two lists
that change over time (regions, service tags) are files in ``libraryops/data/`` with their own
source and date, rewritten by :mod:`libraryops.cloud.refresh_lists`.

Sources:
- NAMING: Microsoft Learn, "Naming rules and restrictions for Azure resources"
  (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules),
  sections Microsoft.Resources, Microsoft.Network and Microsoft.Compute.
- SUBNETS: Microsoft Learn, "Azure Virtual Network FAQ"
  (learn.microsoft.com/azure/virtual-network/virtual-networks-faq): "Are there any restrictions
  on using IP addresses within these subnets?" (5 reserved addresses), "How small and how large
  can virtual networks and subnets be?" (/29 to /2), "What address ranges can I use in my
  virtual networks?" (ranges a VNet may not use).
- TAGS: Microsoft Learn, "Use tags to organize your Azure resources", Limitations
  (learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
- NSG: Microsoft Learn, "Network security groups" (augmented security rules: several addresses
  and prefixes in one rule, never several service tags;
  learn.microsoft.com/azure/virtual-network/network-security-groups-overview), "Azure
  subscription and service limits" (1000 rules per NSG), and the REST reference of a security
  rule (``description``: restricted to 140 characters;
  learn.microsoft.com/rest/api/virtualnetwork/security-rules/create-or-update).
- VM: the Compute REST reference, OSProfile (``adminUsername`` disallowed values and lengths;
  ``customData`` at most 65535 bytes;
  learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update#osprofile).
- GATEWAY: Microsoft Learn, "About VPN Gateway configuration settings", Gateway subnet
  (learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#gwsub): no
  network security group on GatewaySubnet, no VMs or other resources in it.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
REGIONS_FILE = DATA / "azure_regions.json"
SERVICE_TAGS_FILE = DATA / "azure_service_tags.json"


# --- names -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameRule:
    """One row of the naming table: length bounds (characters), a full-match pattern and the
    words a problem line uses for it."""

    min_len: int
    max_len: int
    pattern: re.Pattern[str]
    allowed: str


_NETWORK = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_NETWORK_TEXT = ("letters, digits, '_', '.', '-'; starting with a letter or digit, ending with a "
                 "letter, digit or '_'")
#: The naming table's rows for the kinds azure.yml declares (source: NAMING above).
NAME_RULES = {
    # 1-90: alphanumerics, underscores, parentheses, hyphens, periods and Unicode letters; can't
    # end with a period. \w is Unicode letters, digits and '_'.
    "resource group": NameRule(1, 90, re.compile(r"[\w().-]*[\w()-]"),
                               "letters (Unicode too), digits, '_', '(', ')', '-', '.'; not "
                               "ending with '.'"),
    "virtual network": NameRule(2, 64, _NETWORK, _NETWORK_TEXT),
    "subnet": NameRule(1, 80, _NETWORK, _NETWORK_TEXT),
    "network security group": NameRule(1, 80, _NETWORK, _NETWORK_TEXT),
    "NSG rule": NameRule(1, 80, _NETWORK, _NETWORK_TEXT),
    "public IP": NameRule(1, 80, _NETWORK, _NETWORK_TEXT),
    "NIC": NameRule(1, 80, _NETWORK, _NETWORK_TEXT),
    # Linux VM: 1-64, no spaces, control characters or ~!@#$%^&*()=+_[]{}\|;:'",<>/?, not ending
    # with '.' or '-'. The name is also the VM's computerName (its Linux host name), so only
    # ASCII letters, digits, '-' and '.' are accepted, starting with a letter or digit.
    "virtual machine": NameRule(1, 64, re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"),
                                "letters, digits, '-', '.'; starting and ending with a letter "
                                "or digit; no '_' (the name is also the Linux host name)"),
}


def name_problem(kind: str, value: str) -> str | None:
    """Why ARM refuses ``value`` as the name of a ``kind`` (a key of :data:`NAME_RULES`), as
    ``problem (allowed: ...)`` without the value; None when it is accepted."""
    rule = NAME_RULES[kind]
    if rule.min_len <= len(value) <= rule.max_len and rule.pattern.fullmatch(value):
        return None
    return (f"not an Azure {kind} name (allowed: {rule.min_len}-{rule.max_len} characters: "
            f"{rule.allowed})")


#: OSProfile.adminUsername values ARM refuses (source: VM above); Linux: 1-64 characters.
DISALLOWED_ADMIN_USERS = frozenset({
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1",
    "123", "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest",
    "john", "owner", "root", "server", "sql", "support", "support_388945a0", "sys", "test2",
    "test3", "user4", "user5"})
#: OSProfile.customData: the decoded bytes, at most (source: VM above).
CUSTOM_DATA_MAX_BYTES = 65535


# --- addresses ---------------------------------------------------------------------------------

#: Subnet sizes Azure accepts, as IPv4 prefix lengths (source: SUBNETS above).
SUBNET_PREFIXLEN = (2, 29)
#: Ranges a virtual network's address space may not overlap (source: SUBNETS above).
VNET_FORBIDDEN = {
    "224.0.0.0/4": "multicast", "255.255.255.255/32": "broadcast", "127.0.0.0/8": "loopback",
    "169.254.0.0/16": "link-local", "168.63.129.16/32": "Azure's internal DNS and health probe"}


def reserved_addresses(subnet: ipaddress.IPv4Network) -> dict[ipaddress.IPv4Address, str]:
    """The 5 addresses Azure keeps in every subnet (source: SUBNETS above), with what each is.

    Args:
        subnet: an IPv4 subnet of /29 or larger.
    Returns:
        address -> "network address", "default gateway", "Azure DNS" (twice) or "broadcast".
    """
    first = subnet.network_address
    return {first: "network address", first + 1: "default gateway", first + 2: "Azure DNS",
            first + 3: "Azure DNS", subnet.broadcast_address: "broadcast address"}


def forbidden_overlap(space: ipaddress.IPv4Network) -> str | None:
    """``problem (allowed: ...)`` when a VNet's address space overlaps a range Azure keeps
    (:data:`VNET_FORBIDDEN`); None otherwise."""
    for prefix, what in VNET_FORBIDDEN.items():
        if space.overlaps(ipaddress.IPv4Network(prefix)):
            return (f"overlaps {prefix} ({what}), which Azure does not allow in a virtual network "
                    "(allowed: private ranges such as 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
    return None


# --- NSG rules ---------------------------------------------------------------------------------

RULES_PER_NSG = 1000
RULE_DESCRIPTION_MAX = 140


def _casefold(names: list[str]) -> dict[str, str]:
    return {n.casefold(): n for n in names}


@cache
def service_tags() -> tuple[dict[str, str], frozenset[str], frozenset[str]]:
    """The shipped service tag list (``libraryops/data/azure_service_tags.json``): casefolded
    name -> spelling of every tag valid as it is, casefolded tags also valid as
    ``<tag>.<region>``, and casefolded region suffixes the file itself lists."""
    data = json.loads(SERVICE_TAGS_FILE.read_text(encoding="utf-8"))
    return (_casefold(data["tags"]), frozenset(t.casefold() for t in data["regional"]),
            frozenset(s.casefold() for s in data.get("region_suffixes", [])))


def is_service_tag(value: str) -> bool:
    """True when ``value`` is a service tag of the shipped list, compared without case: a tag as
    listed (``Internet``, ``AzureFrontDoor.Backend``) or a regional tag with a region of any
    cloud in ``azure_regions.json`` or of the tag file's own suffixes (``Storage.WestEurope``,
    split at the last dot)."""
    tags, regional, suffixes = service_tags()
    if value.casefold() in tags:
        return True
    base, dot, region = value.rpartition(".")
    if not dot or base.casefold() not in regional:
        return False
    key = location_key(region)
    return key in suffixes or any(key in names for names in _regions().values())


def service_tag_hint(value: str) -> str:
    """``; did you mean X?`` for a near miss of a known tag (the tag as the list spells it; never
    the value itself), or ""."""
    tags, _, _ = service_tags()
    close = difflib.get_close_matches(value.casefold(), list(tags), n=1, cutoff=0.8)
    return f"; did you mean {tags[close[0]]}?" if close else ""


# --- regions -----------------------------------------------------------------------------------


@cache
def _regions() -> dict[str, dict[str, str]]:
    data = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    return {cloud: {name.casefold(): display for name, display in names.items()}
            for cloud, names in data["clouds"].items()}


def location_key(location: str) -> str:
    """ARM's spelling of a region, as compared everywhere (validation, diff, the stand-in):
    "East US" -> "eastus"."""
    return location.replace(" ", "").casefold()


def location_problem(location: str, cloud: str) -> str | None:
    """``problem (allowed: ...)`` when ``location`` (a name such as ``eastus`` or a display name
    such as ``East US``, without case or spaces) is no region of ``cloud`` (an
    ``azure.core.AzureClouds`` name) in ``libraryops/data/azure_regions.json``; None when it is.
    """
    names = _regions().get(cloud, {})
    if location_key(location) in names:
        return None
    elsewhere = [c for c, n in _regions().items() if location_key(location) in n]
    where = f" (it is a region of {elsewhere[0]}, not of the endpoint's cloud)" if elsewhere else ""
    close = difflib.get_close_matches(location_key(location), list(names), n=1, cutoff=0.8)
    hint = f"; did you mean {close[0]}?" if close else ""
    return (f"not an Azure region of {cloud}{where}{hint} (allowed: a name of "
            f"libraryops/data/azure_regions.json such as {', '.join(list(names)[:3])}; "
            "`make azure-lists` refreshes it)")


# --- tags --------------------------------------------------------------------------------------

TAG_NAME_MAX = 512
TAG_VALUE_MAX = 256
TAGS_PER_RESOURCE = 50
TAG_NAME_FORBIDDEN = "<>%&\\?/"


def tag_problems(tags: dict[str, str]) -> list[tuple[str, str]]:
    """The problems of the tags as written in one place (source: TAGS above), as (tag name,
    ``problem (allowed: ...)``); values are never quoted. The count per resource is
    :func:`tag_count_problem`'s."""
    problems = []
    for name, value in tags.items():
        if len(name) > TAG_NAME_MAX:
            problems.append((name, f"tag name of {len(name)} characters (allowed: at most "
                             f"{TAG_NAME_MAX})"))
        if any(ch in TAG_NAME_FORBIDDEN for ch in name):
            problems.append((name, "tag name with a character Azure refuses (allowed: any "
                             f"except {' '.join(TAG_NAME_FORBIDDEN)})"))
        if len(value) > TAG_VALUE_MAX:
            problems.append((name, f"tag value of {len(value)} characters (allowed: at most "
                             f"{TAG_VALUE_MAX})"))
    return problems


def tag_count_problem(sent: dict[str, str]) -> str | None:
    """``problem (allowed: ...)`` when a resource would receive more than
    :data:`TAGS_PER_RESOURCE` tags (``sent``: every tag ARM receives for it); None otherwise."""
    if len(sent) <= TAGS_PER_RESOURCE:
        return None
    return (f"{len(sent)} tags including the spec-wide and libraryops' own (allowed: at most "
            f"{TAGS_PER_RESOURCE} per resource)")
