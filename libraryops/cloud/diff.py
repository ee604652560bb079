"""Compare and merge ARM resource bodies (wire-format JSON dicts), owning only what the spec sets.

``desired`` is the body libraryops builds from the spec; ``current`` is what Azure returns
(``model.as_dict(exclude_readonly=True)``). Only keys present in ``desired`` are compared
(``etag``, ``provisioningState``, ``defaultSecurityRules`` and anything else Azure adds are never
owned). Values are normalised before comparing: ``None``, ``""``, ``[]`` and ``{}`` are the same
as absent; ``location`` ignores case and spaces ("East US" == "eastus"); ``id`` ignores case (ARM
returns resource-group names in varying case).

Lists of named children are matched by name: :data:`KEYED`. Of those, :data:`EXCLUSIVE` ones are
owned whole (an NSG rule added in the portal is a change that apply removes); the others keep
children the spec does not list (a subnet added by Town IT is never dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from libraryops.cloud import arm_limits

KEYED = frozenset({"subnets", "securityRules", "ipConfigurations"})
EXCLUSIVE = frozenset({"securityRules", "ipConfigurations"})


@dataclass(frozen=True)
class Change:
    """One differing owned field: its path in the body, Azure's value and the spec's value.

    ``old`` is None when the field (or a named child) is absent in Azure; ``new`` is None when
    the spec removes it.
    """

    path: tuple[str, ...]
    old: Any
    new: Any

    @property
    def field(self) -> str:
        """The path for people: ``securityRules[allow-https].priority`` (no ``properties``)."""
        text = ""
        for part in self.path:
            if part == "properties":
                continue
            text += part if part.startswith("[") or not text else f".{part}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """``{"field", "old", "new"}`` for the JSON plan."""
        return {"field": self.field, "old": self.old, "new": self.new}

    def __str__(self) -> str:
        return f"{self.field}: {show(self.old)} → {show(self.new)}"


def _norm(key: str, value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if key == "location" and isinstance(value, str):
        return arm_limits.location_key(value)
    if key == "id" and isinstance(value, str):
        return value.lower()
    return value


def _child_name(item: Any) -> str:
    return str(item.get("name", "")).lower() if isinstance(item, dict) else ""


def diff(current: Any, desired: Any, path: tuple[str, ...] = ()) -> list[Change]:
    """The owned fields of ``desired`` whose value differs in ``current`` (in body order)."""
    key = path[-1] if path else ""
    if isinstance(desired, dict) and desired:
        here = current if isinstance(current, dict) else {}
        return [c for k, v in desired.items() for c in diff(here.get(k), v, (*path, k))]
    if key in KEYED and isinstance(desired, list):
        by_name = {_child_name(item): item for item in current or []}
        changes = []
        for item in desired:
            match = by_name.pop(_child_name(item), None)
            where = (*path, f"[{item['name']}]")
            changes += [Change(where, None, item)] if match is None else diff(match, item, where)
        if key in EXCLUSIVE:
            changes += [Change((*path, f"[{item['name']}]"), item, None)
                        for item in by_name.values()]
        return changes
    if (isinstance(desired, list) and isinstance(current, list) and len(desired) == len(current)
            and any(isinstance(item, dict) for item in desired)):
        return [c for i, (cur, want) in enumerate(zip(current, desired, strict=True))
                for c in diff(cur, want, (*path, f"[{i}]"))]
    if _norm(key, current) != _norm(key, desired):
        return [Change(path, current, desired)]
    return []


def overlay(current: Any, desired: Any, key: str = "") -> Any:
    """``current`` with the spec's values laid over it: the body of a read-modify-write PUT.

    Keys the spec does not own keep Azure's values (tags set by others survive); named
    children are merged by name (non-exclusive collections keep unlisted children).
    """
    if isinstance(desired, dict) and isinstance(current, dict):
        merged = dict(current)
        for k, v in desired.items():
            merged[k] = overlay(current.get(k), v, k)
        return merged
    if key in KEYED and isinstance(desired, list) and isinstance(current, list):
        by_name = {_child_name(item): item for item in current}
        merged_items = [overlay(by_name.pop(_child_name(item), None), item) for item in desired]
        if key not in EXCLUSIVE:
            merged_items += [item for item in current if _child_name(item) in by_name]
        return merged_items
    return desired


def without(body: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """A deep copy of ``body`` with the given key paths removed (absent paths are ignored)."""
    copy = json.loads(json.dumps(body))
    for path in paths:
        node = copy
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return copy


def show(value: Any) -> str:
    """A value for the text plan: ``(none)``, a reference's resource name, ``[a, b]``, ``k=v``."""
    if value in (None, "", [], {}):
        return "(none)"
    if isinstance(value, dict):
        if set(value) == {"id"}:
            return str(value["id"]).rsplit("/", 1)[-1]
        inner = value.get("properties", value) if "name" in value else value
        return "{" + ", ".join(f"{k}={show(v)}" for k, v in inner.items()
                               if v not in (None, "", [], {})) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, bool) else str(value)
