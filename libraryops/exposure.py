"""Exposure judged by meaning: how much of the public Internet a set of source networks lets in.

Firewall rules (:mod:`libraryops.firewall`), ``sshd__management_networks`` and the Azure spec's
NSG rules (:mod:`libraryops.cloud.spec`) all name who may connect as a list of networks. A list
is judged by the union of its networks against the public address space, never by its strings:
``[0.0.0.0/1, 128.0.0.0/1]`` is the whole Internet as surely as ``0.0.0.0/0``, while
``10.0.0.0/8`` is none of it.

The public address space is every address Python's :mod:`ipaddress` reports as global
(``is_global``: IANA's IPv4 and IPv6 Special-Purpose Address Registries). A source list may let
in at most :data:`WIDEST_PUBLIC` worth of public addresses per family: one town's own networks
fit, the Internet (whole or in pieces) does not.

This module imports nothing of the project.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The most public addresses one source list may let in, as a prefix length per IP version:
#: a /16 of IPv4 (65 536 addresses, more than any town network) and a /32 of IPv6 (an ISP's
#: whole allocation; a site has a /48 or a /56).
WIDEST_PUBLIC = {4: 16, 6: 32}


def _non_global(version: int) -> list[IPNetwork]:
    """The blocks whose addresses are not global, from :mod:`ipaddress`'s own tables (IANA's
    special-purpose registries; ``tests/unit/test_exposure.py`` checks each against the public
    ``is_global``)."""
    constants = ipaddress.IPv4Address._constants if version == 4 else (  # noqa: SLF001
        ipaddress.IPv6Address._constants)  # noqa: SLF001
    blocks = list(constants._private_networks)  # noqa: SLF001
    if version == 4:  # RFC 6598 shared address space (carrier NAT): not global either
        blocks.append(ipaddress.IPv4Network("100.64.0.0/10"))
    return list(ipaddress.collapse_addresses(blocks))


NON_GLOBAL = {4: _non_global(4), 6: _non_global(6)}


def networks(sources: Iterable[Any]) -> list[IPNetwork]:
    """The networks of ``sources`` (strings such as ``10.0.0.0/8`` or single addresses);
    entries that are not networks are left out (their own check reports them)."""
    found = []
    for source in sources:
        try:
            found.append(ipaddress.ip_network(str(source).strip(), strict=False))
        except ValueError:
            continue
    return found


def public_addresses(sources: Iterable[Any], version: int) -> int:
    """How many public (global) addresses of IP ``version`` (4 or 6) the union of ``sources``
    holds (see :func:`networks` for what counts as a source)."""
    union = list(ipaddress.collapse_addresses(
        n for n in networks(sources) if n.version == version))
    total = sum(n.num_addresses for n in union)
    for block in NON_GLOBAL[version]:
        for net in union:  # CIDR blocks either nest or do not meet
            if net.overlaps(block):
                total -= min(net.num_addresses, block.num_addresses)
    return total


def too_public(sources: Iterable[Any]) -> list[str]:
    """The IP versions in which ``sources`` let in more of the Internet than
    :data:`WIDEST_PUBLIC` allows, as ``"IPv4 (over 2^31 public addresses)"``-style phrases; [] when
    the list is narrow enough. An empty list is not judged here (callers decide what "no
    sources" means)."""
    sources = list(sources)
    found = []
    for version, prefixlen in WIDEST_PUBLIC.items():
        count = public_addresses(sources, version)
        if count > 2 ** ((32 if version == 4 else 128) - prefixlen):
            found.append(f"IPv{version} (over 2^{count.bit_length() - 1} public addresses)")
    return found


def limit_text() -> str:
    """What :func:`too_public` allows, for ``allowed:`` texts."""
    return (f"networks holding at most a /{WIDEST_PUBLIC[4]} (IPv4) or a /{WIDEST_PUBLIC[6]} "
            "(IPv6) of public addresses in all; private networks (10.0.0.0/8, fd00::/8) freely")
