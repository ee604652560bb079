"""Ansible filters that read the pyinfra public-PC deploy's own source (``deploy/*.py``).

The Ansible equivalent of the deploy (``tools/bench/public_pc.yml``, there only for the
benchmark) takes its package lists, paths, defaults and the browser policies from the deploy
itself, so the two cannot drift apart: nothing here imports pyinfra (that would slow every
Ansible fork down and bias the comparison); the modules are parsed with :mod:`ast`.

- ``'kiosk.DESKTOP_PACKAGES' | deploy_constant``: a module-level constant of ``deploy/<module>.py``
  (its expression evaluated with the module's earlier constants and its ``libraryops.hours`` /
  ``deploy.*`` imports; tuples and sets come back as lists);
- ``'browser.render_policies' | deploy_call(arg, ...)``: a pure function of a deploy module,
  compiled on its own with the module's standard-library imports;
- ``'lightdm.conf.j2' | deploy_template(name=value, ...)``: a template of ``deploy/templates/``
  rendered with pyinfra's Jinja settings (``files.template``: StrictUndefined, no trim_blocks,
  trailing newlines kept), for the templates Ansible's template module renders differently.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from libraryops.paths import REPO

DEPLOY = REPO / "deploy"
#: Builtins a constant's expression may use.
_BUILTINS = {"frozenset": frozenset, "set": set, "tuple": tuple, "list": list, "dict": dict,
             "str": str, "int": int, "len": len, "sorted": sorted}


def _plain(value: Any) -> Any:
    """Ansible 2.19's lazy containers and tagged strings as plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse((DEPLOY / f"{module}.py").read_text(encoding="utf-8"))


@cache
def _namespace(module: str) -> dict[str, Any]:
    """The module's constants, evaluated in order (assignments that need more are skipped)."""
    names: dict[str, Any] = {"__builtins__": _BUILTINS}
    for node in _tree(module).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("libraryops."):
                imported = importlib.import_module(node.module)
                names.update({a.asname or a.name: getattr(imported, a.name) for a in node.names})
            elif node.module.startswith("deploy."):
                other = _namespace(node.module.removeprefix("deploy."))
                names.update({a.asname or a.name: other[a.name] for a in node.names
                              if a.name in other})
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and node.value is not None:
                expression = ast.Expression(node.value)
                try:
                    value = eval(compile(expression, str(DEPLOY / module), "eval"), names)  # noqa: S307
                except Exception:  # needs a runtime value (Path(__file__), pyinfra): not a constant
                    continue
                names[targets[0].id] = value
    return names


def deploy_constant(dotted: str) -> Any:
    """``"<module>.<NAME>"`` -> the value of that module-level constant of ``deploy/``.

    Raises:
        KeyError: no such constant (or it is not computable without pyinfra).
    """
    module, _, name = str(dotted).partition(".")
    names = _namespace(module)
    if name not in names or name == "__builtins__":
        raise KeyError(f"deploy/{module}.py has no constant {name}")
    return _jsonable(names[name])


@cache
def _function(dotted: str):
    module, _, name = dotted.partition(".")
    tree = _tree(module)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
               and not (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0]
                        in ("pyinfra", "deploy"))
               and not (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "pyinfra"
                                                           for a in n.names))]
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not found:
        raise KeyError(f"deploy/{module}.py has no function {name}")
    code = compile(ast.Module(body=[*imports, found[0]], type_ignores=[]),
                   str(DEPLOY / f"{module}.py"), "exec")
    names: dict[str, Any] = {}
    exec(code, names)  # noqa: S102 - the repository's own deploy code
    return names[name]


def deploy_call(dotted: str, *args: Any) -> Any:
    """Call the pure function ``"<module>.<name>"`` of ``deploy/`` with ``args``."""
    return _function(str(dotted))(*[_plain(a) for a in args])


@cache
def _template(name: str):
    from jinja2 import Environment, StrictUndefined

    source = (DEPLOY / "templates" / name).read_text(encoding="utf-8")
    return Environment(undefined=StrictUndefined, keep_trailing_newline=True).from_string(source)


def deploy_template(name: str, **context: Any) -> str:
    """``deploy/templates/<name>`` rendered as pyinfra's ``files.template`` renders it."""
    return _template(str(name)).render(**{k: _plain(v) for k, v in context.items()})


class FilterModule:
    """Ansible's entry point: the filters of this file."""

    def filters(self):
        """Filter name -> function."""
        return {"deploy_constant": deploy_constant,
                "deploy_call": deploy_call, "deploy_template": deploy_template}
