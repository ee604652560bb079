"""The lab's settings (from the site inventory) and the layout of its state directory."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libraryops.lab.system import LabError

#: Overrides ``lab__state_dir`` (tests, a second lab on one machine).
STATE_DIR_ENV = "LIBRARYOPS_LAB_DIR"
#: Debian releases the lab's hosts can run (``lab__release``; images: libraryops.lab.image).
RELEASES = ("12", "13")
#: Inventory variables the lab reads; every host must carry the same values (group_vars/all).
SETTINGS = ("lab__bridge_name", "lab__bridge_address", "lab__state_dir")
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
#: A socket path (``ssh/cm-`` + 40 hex digits) must fit in sun_path (108 bytes).
_MAX_STATE_DIR_LEN = 60


@dataclass(frozen=True)
class LabHost:
    """One lab host: its inventory name (also machine and host name), its address, the
    account the engines connect as (``ansible_user``; "" when unset) and its Debian release
    (``lab__release``: "12" or "13", which base image it boots)."""

    name: str
    address: ipaddress.IPv4Address
    release: str
    user: str = ""


@dataclass(frozen=True)
class LabConfig:
    """Everything the lab needs from the inventory.

    Attributes:
        bridge: the bridge interface name (``lab__bridge_name``).
        interface: the bridge's address with prefix (``lab__bridge_address``), e.g. 10.123.0.1/24.
        state_dir: the machine-wide state directory (``LIBRARYOPS_LAB_DIR`` or
            ``lab__state_dir``).
        hosts: every inventory host, sorted by name.
    """

    bridge: str
    interface: ipaddress.IPv4Interface
    state_dir: Path
    hosts: tuple[LabHost, ...]

    @property
    def network(self) -> ipaddress.IPv4Network:
        """The lab subnet."""
        return self.interface.network

    @property
    def bridge_ip(self) -> str:
        """The bridge's own address (package cache and catalog page listen there)."""
        return str(self.interface.ip)

    @property
    def layout(self) -> Layout:
        """Paths inside the state directory."""
        return Layout(self.state_dir)


@dataclass(frozen=True)
class Layout:
    """Paths inside the lab state directory (all absolute)."""

    root: Path

    ssh_dir = property(lambda self: self.root / "ssh")
    private_key = property(lambda self: self.root / "ssh" / "id_ed25519")
    public_key = property(lambda self: self.root / "ssh" / "id_ed25519.pub")
    ssh_config = property(lambda self: self.root / "ssh" / "config")
    state_file = property(lambda self: self.root / "state.json")
    lock_file = property(lambda self: self.root / "lock")
    images = property(lambda self: self.root / "images")
    hosts = property(lambda self: self.root / "hosts")
    logs = property(lambda self: self.root / "logs")
    nginx_dir = property(lambda self: self.root / "nginx")
    nginx_conf = property(lambda self: self.root / "nginx" / "nginx.conf")
    nginx_pid = property(lambda self: self.root / "nginx" / "nginx.pid")
    package_cache = property(lambda self: self.root / "cache" / "apt")
    www = property(lambda self: self.root / "www")
    arm = property(lambda self: self.root / "arm")
    printer_spool = property(lambda self: self.root / "printer" / "spool")
    printer_pid = property(lambda self: self.root / "printer" / "printer.pid")
    maildir = property(lambda self: self.root / "mail" / "Maildir")
    mail_pid = property(lambda self: self.root / "mail" / "mail.pid")

    def host_dir(self, name: str) -> Path:
        """A host's directory: ``upper/``, ``work/``, ``merged/``, ``supervisor.pid``, ``base``."""
        return self.hosts / name

    def host_log(self, name: str) -> Path:
        """The console and supervisor log of a host."""
        return self.logs / f"{name}.log"


def config_from_hosts(hosts: Mapping[str, Mapping[str, Any]], env: Mapping[str, str]) -> LabConfig:
    """Build and check the lab configuration from merged host variables.

    Args:
        hosts: host name -> merged variables (``SiteInventory.hosts``).
        env: the environment (for ``LIBRARYOPS_LAB_DIR``).

    Raises:
        LabError: a setting is missing or differs between hosts, the bridge name or address is
            invalid, or a host's name or ``ansible_host`` does not fit the lab subnet.
    """
    if not hosts:
        raise LabError("inventory has no hosts: nothing to run in the lab")
    settings = {key: _common_setting(hosts, key) for key in SETTINGS}
    bridge = str(settings["lab__bridge_name"])
    if not _IFNAME.match(bridge):
        raise LabError(f"lab__bridge_name: {bridge!r} is not an interface name (1-15 chars)")
    try:
        interface = ipaddress.IPv4Interface(str(settings["lab__bridge_address"]))
    except ValueError as exc:
        raise LabError(f"lab__bridge_address: {exc} (expected e.g. 10.123.0.1/24)") from None
    if interface.ip in (interface.network.network_address, interface.network.broadcast_address):
        raise LabError(f"lab__bridge_address: {interface} is not a usable host address")
    state_dir = Path(env.get(STATE_DIR_ENV) or str(settings["lab__state_dir"]))
    _check_state_dir(state_dir)
    lab_hosts = tuple(_lab_host(name, hosts[name], interface) for name in sorted(hosts))
    _check_unique_addresses(lab_hosts)
    return LabConfig(bridge=bridge, interface=interface, state_dir=state_dir, hosts=lab_hosts)


def load_config(site_dir: Path | str) -> LabConfig:
    """Read the lab configuration of a site directory (e.g. ``inventories/lab``).

    Raises:
        LabError: the inventory cannot be read or its lab settings are wrong.
    """
    from libraryops.inventory import InventoryError, load_site

    try:
        site = load_site(Path(site_dir))
    except InventoryError as exc:
        raise LabError(str(exc)) from None
    return config_from_hosts(site.hosts, os.environ)


def _common_setting(hosts: Mapping[str, Mapping[str, Any]], key: str) -> Any:
    values = {name: hostvars.get(key) for name, hostvars in hosts.items()}
    missing = sorted(name for name, value in values.items() if value in (None, ""))
    if missing:
        raise LabError(f"{key}: not set for {', '.join(missing)} (set it in group_vars/all)")
    distinct = {str(v) for v in values.values()}
    if len(distinct) > 1:
        raise LabError(f"{key}: differs between hosts ({sorted(distinct)}); set it once")
    return next(iter(values.values()))


def _check_state_dir(state_dir: Path) -> None:
    text = str(state_dir)
    if not state_dir.is_absolute():
        raise LabError(f"lab state directory {text!r} must be an absolute path")
    if any(c in text for c in ",:= \t\n") or len(text) > _MAX_STATE_DIR_LEN:
        raise LabError(
            f"lab state directory {text!r}: needs a short path (<= {_MAX_STATE_DIR_LEN} chars, "
            "no spaces, commas, colons or '=': it goes into overlay options and socket paths)"
        )


def _lab_host(
    name: str, hostvars: Mapping[str, Any], interface: ipaddress.IPv4Interface
) -> LabHost:
    if not _HOST_NAME.match(name):
        raise LabError(f"{name}: not usable as a host name (letters, digits, '-'; <= 63 chars)")
    raw = hostvars.get("ansible_host")
    try:
        address = ipaddress.IPv4Address(str(raw))
    except ValueError:
        raise LabError(f"{name}: ansible_host {raw!r} is not an IPv4 address") from None
    network = interface.network
    if address not in network or address in (
        network.network_address, network.broadcast_address, interface.ip
    ):
        raise LabError(
            f"{name}: ansible_host {address} is not a free host address of the lab subnet "
            f"{network} (the bridge is {interface.ip})"
        )
    release = str(hostvars.get("lab__release") or "")
    if not release:
        raise LabError(f"{name}: lab__release is not set (the lab site's group_vars/all/lab.yml "
                       "sets the default, host_vars/<host>.yml a host's own)")
    if release not in RELEASES:
        raise LabError(f"{name}: lab__release {release!r} is not a release the lab builds "
                       f"(allowed: {', '.join(RELEASES)})")
    return LabHost(name=name, address=address, release=release,
                   user=str(hostvars.get("ansible_user") or ""))


def _check_unique_addresses(hosts: tuple[LabHost, ...]) -> None:
    seen: dict[ipaddress.IPv4Address, str] = {}
    for host in hosts:
        if host.address in seen:
            raise LabError(f"{host.name} and {seen[host.address]} share address {host.address}")
        seen[host.address] = host.name
