"""The wireless regulatory database Debian ships (package ``wireless-regdb``): which frequencies
an access point may transmit on in a country.

``/lib/firmware/regulatory.db`` is the binary database the Linux kernel loads. Its format is the
one written by wireless-regdb's ``db2fw.py`` and read by the kernel's ``net/wireless/reg.c``
(``struct fwdb_header``, ``fwdb_country``, ``fwdb_collection``, ``fwdb_rule``), all big-endian:

- header: magic ``RGDB`` (0x52474442), version 20;
- countries: ``alpha2[2]``, ``coll_ptr`` (u16, offset / 4), until an all-zero entry;
- a collection: ``len`` (u8, bytes before the rule pointers, aligned up to 2), ``n_rules`` (u8),
  ``dfs_region`` (u8), then ``n_rules`` rule pointers (u16, offset / 4);
- a rule: ``len`` (u8), ``flags`` (u8), ``max_eirp`` (u16, mBm), ``start``, ``end``, ``max_bw``
  (u32 each, kHz), optional CAC timeout and WMM pointer.

Only the signature file (``regulatory.db.p7s``) is not checked here: the file is read from the
installed package, as the kernel's own fallback does. Facts are never typed in this module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Where Debian's wireless-regdb installs the database.
DEFAULT_PATH = Path("/lib/firmware/regulatory.db")
MAGIC, VERSION = 0x52474442, 20
#: Rule flags (kernel ``enum fwdb_flags``).
NO_OFDM, NO_OUTDOOR, DFS, NO_IR, AUTO_BW = 1, 2, 4, 8, 16


class RegdbError(ValueError):
    """The database is missing or not in the documented format."""


@dataclass(frozen=True)
class Rule:
    """One frequency range of a country: ``start_khz``-``end_khz``, widest channel ``max_bw_khz``,
    ``max_eirp_mbm`` (100 * dBm) and the ``flags`` above."""

    start_khz: int
    end_khz: int
    max_bw_khz: int
    max_eirp_mbm: int
    flags: int


def parse(data: bytes) -> dict[str, tuple[Rule, ...]]:
    """Country code (``"US"``, ``"00"`` for the world) -> its rules.

    Raises:
        RegdbError: bad magic or version, or a pointer outside the data.
    """
    try:
        magic, version = struct.unpack_from(">II", data, 0)
        if (magic, version) != (MAGIC, VERSION):
            raise RegdbError(f"not a version {VERSION} regulatory.db")
        countries: dict[str, tuple[Rule, ...]] = {}
        offset = 8
        while True:
            alpha2, coll_ptr = struct.unpack_from(">2sH", data, offset)
            offset += 4
            if alpha2 == b"\0\0" and not coll_ptr:
                return countries
            coll = coll_ptr << 2
            length, n_rules, _dfs = struct.unpack_from(">BBB", data, coll)
            first = coll + length + (length & 1)
            rules = []
            for i in range(n_rules):
                (rule_ptr,) = struct.unpack_from(">H", data, first + 2 * i)
                _len, flags, eirp, start, end, bw = struct.unpack_from(">BBHIII", data,
                                                                       rule_ptr << 2)
                rules.append(Rule(start, end, bw, eirp, flags))
            countries[alpha2.decode("ascii")] = tuple(rules)
    except (struct.error, UnicodeDecodeError):
        raise RegdbError("truncated or malformed regulatory.db") from None


@cache
def load(path: Path = DEFAULT_PATH) -> dict[str, tuple[Rule, ...]]:
    """:func:`parse` of the installed database (read once per process).

    Raises:
        RegdbError: missing (Debian package wireless-regdb, in the README's first install line) or
            malformed.
    """
    try:
        return parse(Path(path).read_bytes())
    except OSError:
        raise RegdbError(f"{path}: missing (Debian package wireless-regdb: apt-get install "
                         "wireless-regdb, as root)") from None


def center_mhz(band: str, channel: int) -> int:
    """The center frequency in MHz of a 20 MHz ``channel`` of ``band`` ("2.4GHz", "5GHz"),
    as IEEE 802.11 numbers them (channel 14: 2484 MHz)."""
    if band == "2.4GHz":
        return 2484 if channel == 14 else 2407 + 5 * channel
    return 5000 + 5 * channel


def ap_may_use(rules: tuple[Rule, ...], band: str, channel: int, width_mhz: int = 20) -> bool:
    """Whether an access point may start a ``width_mhz`` channel there: one rule covers it
    whole, allows that width, and does not forbid initiating radiation (NO-IR)."""
    center = center_mhz(band, channel) * 1000
    low, high = center - width_mhz * 500, center + width_mhz * 500
    return any(r.start_khz <= low and high <= r.end_khz and r.max_bw_khz >= width_mhz * 1000
               and not r.flags & NO_IR for r in rules)
