"""Hosts: ``hosts.yml`` holds only groups, hosts and connection keys; every host is in exactly
one function group and one branch, has an address, and no two hosts share one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from libraryops.inventory import BRANCH_GROUP, BRANCH_PREFIX, FUNCTION_GROUPS
from libraryops.validation.base import Problem, Site, SiteFiles, display_path, fail, mapping
from libraryops.validation.files import group_entries
from libraryops.validation.sshd import engine_port
from libraryops.validation.values import address

#: Host variables that hosts.yml may carry; everything else lives in group_vars/host_vars.
CONNECTION_KEYS = ("ansible_host", "ansible_port")
#: An inventory host name: one lower-case DNS label (RFC 1123), so that it is also the host's
#: name on the network, in reports and in file names, and two names cannot differ by case only.
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
#: Keys of a group entry in a YAML inventory.
GROUP_ENTRY_KEYS = ("hosts", "children", "vars")


def _reachable(value: str) -> str:
    """An address that names one machine: not the unspecified address (0.0.0.0, ::), which
    connects to the controller itself, nor a multicast group. (Loopback stays allowed: a test
    VM's SSH forwarded to a local port, as Vagrant and QEMU's user networking do.)"""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return value
    ip = getattr(ip, "ipv4_mapped", None) or ip
    if ip.is_unspecified or ip.is_multicast:
        raise fail("address", "an address that is not one machine (unspecified or multicast)")
    return value


class HostModel(BaseModel):
    """How the engines reach a host: ``ansible_host`` (required) and ``ansible_port``."""

    ansible_host: Annotated[str, Field(strict=True), AfterValidator(address),
                            AfterValidator(_reachable)] = Field(
        description="an IP address or a host name (not 0.0.0.0, :: nor multicast)")
    ansible_port: int | None = Field(None, ge=1, le=65535, description="a TCP port, 1-65535")


def check_hosts_file(files: SiteFiles) -> Iterator[Problem]:
    """hosts.yml holds only groups, hosts and connection keys: no inline ``vars:`` (their
    precedence surprises, ansible#80825), no host data beyond ``ansible_host``/``ansible_port``,
    no unknown keys in a group entry."""
    where = display_path(files.hosts_file)
    for group, _, entry, path in group_entries(files.documents.get(files.hosts_file)):
        for key in entry:
            if key not in GROUP_ENTRY_KEYS:
                yield Problem(where, f"{path}.{key}", "unknown key in a group entry",
                              ", ".join(GROUP_ENTRY_KEYS))
        for var in mapping(entry.get("vars")):
            yield Problem(where, f"{path}.vars.{var}", "variable defined inline in hosts.yml",
                          f"per-group data in group_vars/{group}/<role>.yml")
        for host, host_vars in mapping(entry.get("hosts")).items():
            for var in mapping(host_vars):
                if var not in CONNECTION_KEYS:
                    yield Problem(where, f"{path}.hosts.{host}.{var}",
                                  "variable defined inline in hosts.yml",
                                  f"{', '.join(CONNECTION_KEYS)} here; "
                                  f"other host data in host_vars/{host}/<role>.yml")


def same_address(value: object) -> str:
    """One spelling per address, to compare hosts by what they reach: an IP address as
    :mod:`ipaddress` writes it (an IPv4-mapped IPv6 address as its IPv4), a host name in lower
    case without a trailing dot."""
    text = str(value).strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower().rstrip(".")
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def check_membership(site: Site) -> Iterator[Problem]:
    """Every host has a lower-case DNS label as its name and is in exactly one function group
    and one ``branch_<slug>`` group; no two hosts share an address and port, however spelt."""
    where = display_path(site.files.hosts_file)
    groups = site.inventory.groups
    branches = sorted(g for g in groups if BRANCH_GROUP.fullmatch(g))
    for group in sorted(groups):
        if group.startswith(BRANCH_PREFIX) and group not in branches:
            yield Problem(where, f"groups.{group}", "not a branch group name",
                          f"{BRANCH_PREFIX}<slug>, slug of lowercase letters, digits, _")
    if not site.inventory.hosts:
        yield Problem(where, "all", "the site has no hosts",
                      "at least one host under a function group and a branch group")
    for host in sorted(site.inventory.hosts):
        if not HOST_NAME.fullmatch(host):
            yield Problem(where, f"hosts.{host}", "not a host name",
                          "one lower-case DNS label: a-z, 0-9 and -, not at either end, at most "
                          "63 characters")
    addresses: dict[tuple[str, str], str] = {}
    for host, hostvars in sorted(site.inventory.hosts.items()):
        address = (same_address(hostvars.get("ansible_host", "")), str(engine_port(hostvars)))
        if address[0] and address in addresses:
            yield Problem(where, f"hosts.{host}.ansible_host",
                          f"the same address and port as {addresses[address]}",
                          "one address (and SSH port) per host")
        addresses.setdefault(address, host)
    for host in site.inventory.hosts:
        member_of = set(site.inventory.groups_of(host))
        for kind, allowed in (("function", FUNCTION_GROUPS), ("branch", branches)):
            found = sorted(member_of.intersection(allowed))
            if len(found) != 1:
                in_groups = (f"in {len(found)} {kind} groups: {', '.join(found)}" if found
                             else f"in no {kind} group")
                yield Problem(where, f"hosts.{host}", in_groups,
                              f"exactly one of {', '.join(allowed) or BRANCH_PREFIX + '<slug>'}")


def check_hosts(site: Site) -> Iterator[Problem]:
    """Every host has an address (:class:`HostModel`)."""
    yield from site.model_problems(HostModel, site.inventory.hosts, site.files.hosts_file)
