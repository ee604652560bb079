"""``make role-docs``: each role's ``defaults/main.yml`` and README variables table, written from
its ``meta/argument_specs.yml`` (the one contract of a role: :mod:`libraryops.role_specs`).

``python -m tools.role_contract [--check]``: write both for every role, or with ``--check`` only
print each role and key whose written files disagree with the contract (exit 1), as the unit
test does. The defaults file holds the role's own variables in the spec's order, each under its
description as a comment (Ansible never applies an argument_specs default, so this file is what
makes it the default); the README's table sits between :data:`TABLE_START` and
:data:`TABLE_END`.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from typing import Any

import yaml

from libraryops import role_specs

#: First line of every generated defaults file.
HEADER = ("---\n# Generated from meta/argument_specs.yml by `make role-docs`: edit that file, "
          "then run it.\n")
TABLE_START = "<!-- variables: generated from meta/argument_specs.yml by `make role-docs` -->"
TABLE_END = "<!-- /variables -->"
#: Widest line written (yamllint allows 120; the project's Python and prose keep to 100).
WIDTH = 100
#: A table cell shows a default up to this long; a longer one points at the defaults file.
CELL = 50


class _Dumper(yaml.SafeDumper):
    """YAML as the repository writes it: sequences indented under their key (yamllint's
    ``indent-sequences``), short scalar lists in flow style, multi-line text as a literal block,
    a long Jinja expression folded, clock times quoted."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent block sequences under their mapping key."""
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = None
    if "\n" in value:
        style = "|"
    elif "{{" in value and len(value) > WIDTH // 2:
        style = ">"
    elif re.fullmatch(r"\d\d:\d\d", value):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    scalars = all(isinstance(v, str | int | float | bool) for v in value)
    flow = scalars and len(yaml.safe_dump(value, default_flow_style=True)) < WIDTH // 2
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, WIDTH - 2))


def value_yaml(name: str, value: Any) -> str:
    """``name: value`` as YAML lines (the form the defaults file holds)."""
    return yaml.dump({name: value}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=WIDTH, default_flow_style=False)


def render_defaults(role: str) -> str:
    """The ``defaults/main.yml`` text of ``role``: every own option with a default, under its
    description."""
    options = role_specs.options(role)
    return HEADER + "".join(_comment(options[name].description) + value_yaml(name, value)
                            for name, value in role_specs.defaults(role).items())


def _cell(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    if len(text) > CELL or "\n" in text:
        return "see `defaults/main.yml`"
    return "`" + text.replace("|", "\\|") + "`"


def render_table(role: str) -> str:
    """The README's variables table of ``role`` (one row per own option), with its markers."""
    rows = [TABLE_START, "| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for name, option in role_specs.options(role).items():
        if role_specs.owns(role, name):
            rows.append(f"| `{name}` | {_cell(option.default)} | "
                        f"{option.description.replace('|', chr(92) + '|')} |")
    return "\n".join([*rows, TABLE_END]) + "\n"


def readme_with_table(role: str, readme: str) -> str:
    """``readme`` with its variables table (between the markers) replaced by the generated one.

    Raises:
        ValueError: the README has no markers.
    """
    start, end = readme.find(TABLE_START), readme.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"roles/{role}/README.md: no {TABLE_START} ... {TABLE_END} markers")
    return readme[:start] + render_table(role) + readme[end + len(TABLE_END) + 1:]


def _entries(text: str) -> dict[str, str]:
    """A written file's parts by variable, so that a disagreement can be named by its key: a
    table row, or a defaults file's block (the comment above a key, the key and its value)."""
    entries: dict[str, str] = {}
    block: list[str] = []
    key = None
    for line in text.splitlines():
        row = re.match(r"\| `([a-z0-9_]+__[a-z0-9_]+)` \|", line)
        if row:
            entries[row[1]] = line
            continue
        top = re.match(r"([a-z0-9_]+__[a-z0-9_]+):", line)
        if key is not None and (top or line.startswith("#")):  # the next variable's block
            block, key = [], None
        block.append(line)
        key = top[1] if top else key
        if key is not None:
            entries[key] = "\n".join(block)
    return entries


def _differences(role: str, what: str, written: str, wanted: str) -> list[str]:
    have, want = _entries(written), _entries(wanted)
    found = [f"roles/{role}: {name}: in argument_specs, missing from {what}"
             for name in want if name not in have]
    found += [f"roles/{role}: {name}: in {what}, not in argument_specs (stale)"
              for name in have if name not in want]
    found += [f"roles/{role}: {name}: {what} disagrees with argument_specs"
              for name in want if name in have and have[name] != want[name]]
    if not found and written != wanted:
        found.append(f"roles/{role}: {what} differs from what argument_specs generates "
                     "(order or header)")
    return found


def check(role: str) -> list[str]:
    """Every disagreement between ``role``'s contract and its defaults file and README table,
    as ``roles/<role>: <key>: <what>`` lines (empty: they agree)."""
    directory = role_specs.ROLES / role
    found = _differences(role, "defaults/main.yml",
                         (directory / "defaults" / "main.yml").read_text(encoding="utf-8"),
                         render_defaults(role))
    readme = (directory / "README.md").read_text(encoding="utf-8")
    try:
        found += _differences(role, "README.md's table", readme, readme_with_table(role, readme))
    except ValueError as exc:
        found.append(str(exc))
    return found


def write(role: str) -> None:
    """Write ``role``'s defaults file and README table from its contract."""
    directory = role_specs.ROLES / role
    (directory / "defaults" / "main.yml").write_text(render_defaults(role), encoding="utf-8")
    readme = directory / "README.md"
    readme.write_text(readme_with_table(role, readme.read_text(encoding="utf-8")),
                      encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) every role; 1 when a check finds a disagreement."""
    parser = argparse.ArgumentParser(prog="python -m tools.role_contract", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report disagreements")
    args = parser.parse_args(argv)
    problems = []
    for role in role_specs.role_names():
        if args.check:
            problems += check(role)
        else:
            write(role)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
