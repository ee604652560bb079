"""The base of ``make validate``: a problem line, one way to fail, the site as written and as
merged, and the mapping of a pydantic model's errors to problems.

Everything else in :mod:`libraryops.validation` builds on this module; it imports nothing of the
package (only :mod:`libraryops.problem`, :mod:`libraryops.paths` and the inventory adapter's types).
Messages never repeat a variable's value: it may have been vaulted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from libraryops import paths
from libraryops.inventory import SiteInventory
from libraryops.problem import Problem, fail

__all__ = ["Problem", "Site", "SiteFiles", "display_path", "dotted", "fail", "mapping",
           "members", "model_checker"]


def display_path(path: Path) -> str:
    """``path`` relative to the repository root when inside it, else absolute."""
    path = path.absolute()
    return str(path.relative_to(paths.REPO)) if path.is_relative_to(paths.REPO) else str(path)


@dataclass
class SiteFiles:
    """The inventory files of a site as written, before Ansible merges them.

    Attributes:
        path: the site directory.
        documents: file -> parsed YAML (``!vault`` values stay encrypted), in the order Ansible
            loads them within a directory.
        scopes: ``host:<name>`` / ``group:<name>`` -> the files defining variables for it,
            lowest precedence first, with the variable names each defines.
        depth: group -> depth below ``all`` (``all`` = 0), as nested in hosts.yml.
    """

    path: Path
    documents: dict[Path, Any] = field(default_factory=dict)
    scopes: dict[str, list[tuple[Path, frozenset[str]]]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=lambda: {"all": 0})

    @property
    def hosts_file(self) -> Path:
        """The site's ``hosts.yml``."""
        return self.path / "hosts.yml"

    def define(self, scope: str, file: Path, names: Iterable[str]) -> None:
        """Record that ``file`` defines ``names`` for ``scope`` (later calls take precedence)."""
        self.scopes.setdefault(scope, []).append((file, frozenset(map(str, names))))


def mapping(value: Any) -> dict:
    """``value`` if it is a mapping, else an empty one (Ansible reports the wrong shape)."""
    return value if isinstance(value, dict) else {}


@dataclass
class Site:
    """A parsed and merged site: what every checker in :data:`CHECKS` receives.

    Attributes:
        files: the files as written (:class:`SiteFiles`).
        inventory: the merged view from the adapter (:class:`SiteInventory`).
    """

    files: SiteFiles
    inventory: SiteInventory

    def source(self, var: str, host: str) -> Path | None:
        """The file whose definition of ``var`` wins for ``host``, or None when none defines it.

        Precedence as Ansible's: host_vars and hosts.yml host entries, then groups from the
        deepest to ``all`` (ties by name, later wins), a later file in a directory first.
        """
        groups = sorted(self.inventory.groups_of(host),
                        key=lambda g: (self.files.depth.get(g, 1), g), reverse=True)
        for scope in [f"host:{host}"] + [f"group:{g}" for g in groups] + ["group:all"]:
            for file, names in reversed(self.files.scopes.get(scope, [])):
                if var in names:
                    return file
        return None

    def model_problems(self, model: type[BaseModel], hosts: Iterable[str],
                       expected: Path) -> Iterator[Problem]:
        """Validate each host's merged variables with ``model``; a key of the model that is
        present with an empty value (YAML null) is a problem too, not a fallback to the default.

        The host's variables are also the validation context (validators that need a sibling
        variable, e.g. ``lab__state_dir``, read it there). A problem names the file that defines
        the variable, or ``expected`` when no file does; keys in hosts.yml are prefixed with
        ``hosts.<host>.``.
        """
        for host in hosts:
            hostvars = self.inventory.hosts.get(host, {})
            for name, info in model.model_fields.items():
                if name in hostvars and hostvars[name] is None:
                    file = self.source(name, host) or expected
                    prefix = f"hosts.{host}." if file == self.files.hosts_file else ""
                    yield Problem(display_path(file), prefix + name,
                                  "no value (the key is there, its value empty)",
                                  info.description or "")
            try:
                model.model_validate(hostvars, context=hostvars)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    file = self.source(str(error["loc"][0]), host) or expected
                    prefix = f"hosts.{host}." if file == self.files.hosts_file else ""
                    yield Problem(display_path(file), prefix + dotted(error["loc"]),
                                  _message(error), _allowed(model, error))


def dotted(loc: Sequence[str | int]) -> str:
    """A pydantic location as a dotted path: ``('a', 0, 'b')`` -> ``a[0].b``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _message(error: dict) -> str:
    """The problem text of a pydantic error (never its input value)."""
    if error["type"] == "missing":
        return "missing"
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return error["msg"][:1].lower() + error["msg"][1:]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Model]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_inner_model, get_args(annotation))), None)


def _allowed(model: type[BaseModel], error: dict) -> str:
    """What is allowed where ``error`` is: the error's own ``allowed``, else the description of
    the field it is in, else (an unknown key) the fields of the model it is in."""
    if "allowed" in error.get("ctx", {}):
        return error["ctx"]["allowed"]
    description = ""
    current: type[BaseModel] | None = model
    for part in error["loc"]:
        if isinstance(part, int):
            continue
        if current is None:
            break
        if part not in current.model_fields:
            return ", ".join(current.model_fields)
        info = current.model_fields[part]
        description, current = info.description or "", _inner_model(info.annotation)
    return description


def members(site: Site, group: str | None) -> list[str]:
    """The hosts of ``group`` (every host when None), sorted as the inventory lists them."""
    return sorted(site.inventory.hosts) if group is None else site.inventory.groups.get(group, [])


def model_checker(model: type[BaseModel], role_file: str, group: str | None = None):
    """A checker validating ``model`` on the hosts of ``group`` (all hosts when None); a missing
    variable belongs in ``group_vars/<group or all>/<role_file>``."""

    def check(site: Site) -> Iterator[Problem]:
        expected = site.files.path / "group_vars" / (group or "all") / role_file
        yield from site.model_problems(model, members(site, group), expected)

    check.__doc__ = f"{model.__doc__} Checked on {group or 'every host'}."
    check.__name__ = f"check_{role_file.removesuffix('.yml')}"
    return check
