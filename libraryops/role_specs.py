"""The roles' contracts as data: ``roles/<role>/meta/argument_specs.yml``.

Each role's argument_specs (the ``main`` entry point) is the one place a role variable is
defined: its ``type``, ``description`` and ``default`` (dev-sec's way). Ansible checks the type
when the role runs but never applies the ``default`` (argument_specs are documentation there), so
``defaults/main.yml`` and the README's variables table are generated from it
(``make role-docs``, :mod:`tools.role_contract`) and a unit test finds any that disagree.
``make validate`` and the testinfra suites read a role's defaults here too.

An option named after another role (``accounts__management_users`` in the sshd role, which its
pre-flight reads) belongs to that role: it has no default here and no line in this role's
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from libraryops import paths

ROLES = paths.REPO / "roles"


@dataclass(frozen=True)
class Option:
    """One variable of a role's argument_specs.

    Attributes:
        name: the variable (``<role>__<name>``).
        type: Ansible's type name (``str``, ``bool``, ``int``, ``list``, ``dict``, ``path``...).
        description: what it is, one paragraph.
        default: the role's default (a Jinja string where the default is derived); only when
            :attr:`has_default`.
        has_default: whether the spec gives a default (options of another role give none).
        spec: the option's whole entry, as written.
    """

    name: str
    type: str
    description: str
    default: Any
    has_default: bool
    spec: dict[str, Any]


def role_names() -> list[str]:
    """The roles of the repository that have argument_specs, sorted."""
    return sorted(p.parent.parent.name for p in ROLES.glob("*/meta/argument_specs.yml"))


@cache
def options(role: str) -> dict[str, Option]:
    """The ``main`` entry point's options of ``role``, in the order written.

    Raises:
        FileNotFoundError: the role has no ``meta/argument_specs.yml``.
    """
    text = (ROLES / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8")
    specs = yaml.safe_load(text)["argument_specs"]["main"].get("options") or {}
    return {name: Option(name, str(spec.get("type", "str")),
                         " ".join(str(spec.get("description", "")).split()),
                         spec.get("default"), "default" in spec, spec)
            for name, spec in specs.items()}


def owns(role: str, name: str) -> bool:
    """Whether ``name`` is a variable of ``role`` by its prefix (``<role>__``)."""
    return name.startswith(f"{role}__")


def defaults(role: str) -> dict[str, Any]:
    """The role's own variables and their defaults, in the order written (what
    ``defaults/main.yml`` holds)."""
    return {name: o.default for name, o in options(role).items()
            if owns(role, name) and o.has_default}


def role_default(role: str, name: str) -> Any:
    """A role's default for ``name``, or None when it has none."""
    return defaults(role).get(name)
