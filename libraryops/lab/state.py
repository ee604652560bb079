"""``<state>/state.json``: what the lab created on this machine, so ``down`` removes exactly that.

Each entry is recorded *before* the thing is created, so a command that dies half-way still
leaves a record ``down`` can act on. Keys: ``bridge`` (interface name), ``nft_table`` (family and
name), ``nft_fingerprint`` (hash of the loaded rules), ``cgroup2_mount`` (a cgroup2 mount point
the lab made).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from libraryops.lab.system import write_file


def load(path: Path) -> dict[str, Any]:
    """The recorded state ({} when nothing is recorded or the file is unreadable JSON)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def record(path: Path, **entries: Any) -> None:
    """Add or replace entries; a None value removes the entry."""
    data = load(path)
    for key, value in entries.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    write_file(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o600)
