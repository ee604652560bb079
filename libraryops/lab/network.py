"""The lab network: a private bridge and the ``inet libraryops_lab`` nftables table.

No NAT and no IP forwarding: lab hosts get only the bridge subnet (no default route) and reach
the Debian mirror through the package cache on the bridge address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from typing import Any

from libraryops.lab import render, state
from libraryops.lab.config import LabConfig
from libraryops.lab.system import LabError, run


def subnet_conflicts(
    network: ipaddress.IPv4Network, bridge: str, addresses: list[dict[str, Any]],
    routes: list[dict[str, Any]],
) -> list[str]:
    """Other interfaces that already use the lab subnet, as readable strings.

    Args:
        network: the lab subnet.
        bridge: the lab bridge name (its own addresses and routes are not conflicts).
        addresses: ``ip -j -4 addr show`` output.
        routes: ``ip -j -4 route show table all`` output.
    """
    found = []
    for link in addresses:
        if link.get("ifname") == bridge:
            continue
        for info in link.get("addr_info", []):
            used = ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}")
            if used.network.overlaps(network):
                found.append(f"{link['ifname']} has {used}")
    for route in routes:
        dst, dev = route.get("dst", "default"), route.get("dev")
        if dst == "default" or dev in (bridge, None, "lo") or route.get("type") == "local":
            continue
        if ipaddress.IPv4Network(dst, strict=False).overlaps(network):
            found.append(f"route {dst} via {dev}")
    return sorted(set(found))


def bridge_exists(bridge: str) -> bool:
    """True when a link with the bridge's name exists."""
    return run(["ip", "link", "show", "dev", bridge], check=False).returncode == 0


def nft_table_exists() -> bool:
    """True when the lab's nftables table is loaded."""
    return run(["nft", "list", "table", *render.NFT_TABLE.split()], check=False).returncode == 0


def ensure_network(config: LabConfig) -> str:
    """Create (or check) the bridge and load the nft table; return what was done.

    Raises:
        LabError: the subnet is used by another interface, or a link with the bridge's name
            exists and is not a bridge.
    """
    return f"{_ensure_bridge(config)}; {_ensure_nft(config)}"


def remove_network(config: LabConfig) -> list[str]:
    """Delete the nft table and the recorded bridge; return what was removed."""
    removed = []
    if nft_table_exists():
        run(["nft", "delete", "table", *render.NFT_TABLE.split()])
        removed.append(f"nft table {render.NFT_TABLE}")
    recorded = state.load(config.layout.state_file)
    bridge = recorded.get("bridge")
    if bridge and bridge_exists(bridge):
        # Ports left by hosts that were killed (nspawn deletes its veth only on a clean exit).
        for port in _ip_json("link", "show", "master", bridge):
            run(["ip", "link", "delete", "dev", port["ifname"]], check=False)
        run(["ip", "link", "delete", "dev", bridge])
        removed.append(f"bridge {bridge}")
    state.record(config.layout.state_file, bridge=None, nft_table=None, nft_fingerprint=None)
    return removed


def _ensure_bridge(config: LabConfig) -> str:
    bridge, address = config.bridge, str(config.interface)
    conflicts = subnet_conflicts(
        config.network, bridge, _ip_json("-4", "addr", "show"),
        _ip_json("-4", "route", "show", "table", "all"),
    )
    if conflicts:
        raise LabError(
            f"lab subnet {config.network} is already used ({'; '.join(conflicts)}): free it or "
            "choose another lab__bridge_address"
        )
    created = not bridge_exists(bridge)
    if created:
        state.record(config.layout.state_file, bridge=bridge)
        run(["ip", "link", "add", "name", bridge, "type", "bridge"])
    _check_is_bridge(bridge)
    state.record(config.layout.state_file, bridge=bridge)
    if address not in _bridge_addresses(bridge):
        run(["ip", "addr", "replace", address, "dev", bridge])
    run(["ip", "link", "set", "dev", bridge, "up"])
    return f"bridge {bridge} {address} {'created' if created else 'present'}"


def _check_is_bridge(bridge: str) -> None:
    links = _ip_json("-details", "link", "show", "dev", bridge)
    kind = links[0].get("linkinfo", {}).get("info_kind") if links else None
    if kind != "bridge":
        raise LabError(f"link {bridge} exists and is not a bridge ({kind}): choose another "
                       "lab__bridge_name")


def _bridge_addresses(bridge: str) -> list[str]:
    links = _ip_json("-4", "addr", "show", "dev", bridge)
    infos = links[0].get("addr_info", []) if links else []
    return [f"{i['local']}/{i['prefixlen']}" for i in infos]


def _ensure_nft(config: LabConfig) -> str:
    ruleset = render.nft_ruleset(config)
    recorded = state.load(config.layout.state_file).get("nft_fingerprint")
    if nft_table_exists() and recorded == _fingerprint(ruleset):
        return f"nft table {render.NFT_TABLE} unchanged"
    state.record(config.layout.state_file, nft_table=render.NFT_TABLE)
    # Declaring, deleting and re-adding the table in one transaction replaces it atomically.
    run(["nft", "-f", "-"], stdin=f"table {render.NFT_TABLE}\ndelete table {render.NFT_TABLE}\n"
        + ruleset)
    state.record(config.layout.state_file, nft_fingerprint=_fingerprint(ruleset))
    return f"nft table {render.NFT_TABLE} loaded"


def _fingerprint(ruleset: str) -> str:
    """Hash of the wanted rules plus the kernel's listing (catches edits made by hand)."""
    listing = run(["nft", "list", "table", *render.NFT_TABLE.split()], check=False).stdout
    return hashlib.sha256((ruleset + "\0" + listing).encode()).hexdigest()


def _ip_json(*args: str) -> list[dict[str, Any]]:
    return json.loads(run(["ip", "-j", *args]).stdout or "[]")
