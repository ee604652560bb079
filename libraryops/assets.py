"""The asset register: what each Linux host reports about itself, kept as committed data.

``make assets`` runs ``playbooks/assets.yml`` (Ansible's own facts, plus ``smartctl`` where
smartmontools is installed: read-only), which leaves one raw JSON document per reached host in
``reports/<site>/assets-raw/``. :func:`collect` turns each into a register record
(:func:`record_from_raw`) and merges it into ``inventories/<site>/assets/<host>.json``: one
diff-friendly file per host (sorted keys, two-space indent), so a pull request shows what changed
on which machine. ``first_seen`` stays from the first collection; ``last_seen`` moves. A host not
reached keeps its file as it was.

A record (JSON object): ``host``; ``vendor``, ``model``, ``serial`` (firmware DMI/SMBIOS:
Ansible reads ``/sys/devices/virtual/dmi/id``, else dmidecode; ``unknown`` where absent, as in
containers and many VMs); ``cpu`` (``model``, ``cores``); ``memory_mb``; ``disks`` (``name``,
``size_bytes``, ``type`` ssd / hdd / unknown from the kernel's ``rotational`` flag, ``smart``
PASSED / FAILED / unknown); ``os`` (``id``, ``version``, ``codename``); ``interfaces``
(``name``, ``kind`` wired / wireless, ``mac``); ``first_seen`` and ``last_seen`` (ISO dates, the
controller's clock).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Where a site's register lives (committed; the lab's is ignored by git).
REGISTER_DIR = "assets"
#: What a record says for a fact the machine does not give.
UNKNOWN = "unknown"
#: Firmware strings that mean "not filled in": Ansible's own "NA" for an absent DMI file, and
#: the SMBIOS placeholders board vendors ship (seen in the wild; the SMBIOS specification
#: (DMTF DSP0134) leaves the strings free).
_PLACEHOLDERS = frozenset({"", "na", "none", "not specified", "to be filled by o.e.m.",
                           "default string", "system serial number", "system product name",
                           "system manufacturer", "0123456789", "n/a"})


def _firmware(value: Any) -> str:
    text = str(value or "").strip()
    return UNKNOWN if text.lower() in _PLACEHOLDERS else text


def _disks(devices: dict[str, Any], smart: dict[str, str]) -> list[dict[str, Any]]:
    """Whole disks (not partitions, loop, RAM or device-mapper devices) with size and type."""
    disks = []
    for name, info in sorted(devices.items()):
        if name.startswith(("loop", "ram", "dm-", "sr", "zram", "md")) or not info:
            continue
        sectors, sectorsize = int(info.get("sectors") or 0), int(info.get("sectorsize") or 512)
        rotational = str(info.get("rotational", ""))
        disks.append({"name": name, "size_bytes": sectors * sectorsize,
                      "type": {"0": "ssd", "1": "hdd"}.get(rotational, UNKNOWN),
                      "smart": smart.get(name, UNKNOWN)})
    return disks


def _interfaces(facts: dict[str, Any]) -> list[dict[str, str]]:
    """The machine's own network interfaces and their MAC addresses.

    An interface is hardware when Ansible found a device behind it (it reports ``pciid`` or the
    driver's ``module`` only when ``/sys/class/net/<name>/device`` exists): bridges, veth pairs,
    VLANs and tunnels have none. Wireless by systemd's interface naming (``wl`` prefix:
    systemd.net-naming-scheme(7)), wired otherwise.
    """
    found = []
    for name in sorted(facts.get("interfaces") or []):
        info = facts.get(name.replace("-", "_")) or {}
        mac = str(info.get("macaddress") or "")
        if mac and ("pciid" in info or "module" in info):
            found.append({"name": name, "kind": "wireless" if name.startswith("wl") else "wired",
                          "mac": mac})
    return found


def smart_health(results: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Device name -> PASSED / FAILED from ``smartctl --json -H`` documents (smartmontools 7:
    ``smart_status.passed``; see smartctl(8), ``--json``); devices without a verdict are left
    out (unknown)."""
    health = {}
    for document in results:
        name = str((document.get("device") or {}).get("name", "")).removeprefix("/dev/")
        passed = (document.get("smart_status") or {}).get("passed")
        if name and passed is not None:
            health[name] = "PASSED" if passed else "FAILED"
    return health


def record_from_raw(host: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A register record (see the module doc) from one host's raw document.

    Args:
        host: the inventory host name.
        raw: ``{"facts": <ansible_facts, keys without the ansible_ prefix>, "smart":
            [<smartctl --json documents>]}`` as ``playbooks/assets.yml`` writes it.

    Returns:
        The record without ``first_seen``/``last_seen`` (see :func:`merge`).
    """
    facts = raw.get("facts") or {}
    processor = [str(p) for p in facts.get("processor") or []]
    cpu_model = next((p for p in reversed(processor) if not p.isdigit() and p not in
                      ("GenuineIntel", "AuthenticAMD")), UNKNOWN)
    return {
        "host": host,
        "vendor": _firmware(facts.get("system_vendor")),
        "model": _firmware(facts.get("product_name")),
        "serial": _firmware(facts.get("product_serial")),
        "cpu": {"model": cpu_model,
                "cores": int(facts.get("processor_vcpus") or facts.get("processor_nproc") or 0)},
        "memory_mb": int(facts.get("memtotal_mb") or 0),
        "disks": _disks(facts.get("devices") or {}, smart_health(raw.get("smart") or [])),
        "os": {"id": str(facts.get("distribution") or UNKNOWN).lower(),
               "version": str(facts.get("distribution_major_version") or UNKNOWN),
               "codename": str(facts.get("distribution_release") or UNKNOWN)},
        "interfaces": _interfaces(facts),
    }


def merge(previous: dict[str, Any] | None, record: dict[str, Any], today: dt.date) -> dict:
    """``record`` seen ``today``: ``first_seen`` kept from ``previous`` (the stored record, or
    None for a new host), ``last_seen`` today."""
    first = (previous or {}).get("first_seen") or today.isoformat()
    return {**record, "first_seen": first, "last_seen": today.isoformat()}


def register_path(site_dir: Path, host: str) -> Path:
    """``inventories/<site>/assets/<host>.json``."""
    return site_dir / REGISTER_DIR / f"{host}.json"


def load_register(site_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stored record of a site, by host name (empty when nothing was collected).

    Raises:
        ValueError: a register file is not a JSON object (names the file).
    """
    register = {}
    for file in sorted((site_dir / REGISTER_DIR).glob("*.json")):
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict):
            raise ValueError(f"{file}: not a register record (a JSON object); delete it and run "
                             "make assets again")
        register[file.stem] = record
    return register


def collect(site_dir: Path, raw_dir: Path, today: dt.date) -> list[str]:
    """Merge every raw document of ``raw_dir`` into the site's register; returns the hosts
    whose file changed (a host not reached has no raw document and keeps its record)."""
    changed = []
    stored = load_register(site_dir)
    for raw_file in sorted(raw_dir.glob("*.json")):
        host = raw_file.stem
        record = merge(stored.get(host), record_from_raw(
            host, json.loads(raw_file.read_text(encoding="utf-8"))), today)
        path = register_path(site_dir, host)
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(host)
    return changed
