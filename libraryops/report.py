"""Run reports: what each engine changed on each host, and what testinfra found.

Inputs, all written under ``reports/<site>/`` by a run:

- ``ansible-<playbook>.json``: per-host recap from the ``libraryops_stats`` callback plugin;
- ``pyinfra-<deploy>.json``: per-host operation counts from :func:`record_pyinfra_changes`;
- ``testinfra.xml``: pytest's JUnit XML of the testinfra suites.

``python -m libraryops.report summary --dir reports/lab [--expect-no-changes]`` prints one row
per host (host, engine changes, checks passed/failed) and exits 1 when a check failed, an engine
failed, or, with ``--expect-no-changes``, when any engine changed anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pyinfra.api.state import BaseStateCallback

#: JUnit property that tests/testinfra/conftest.py records for every test: the host it checked.
HOST_PROPERTY = "testinfra_host"


def record_pyinfra_changes(state) -> None:
    """Count pyinfra operations per host into the JSON file named by ``LIBRARYOPS_PYINFRA_STATS``.

    Called from a deploy file (which pyinfra executes once per host): registers one
    ``BaseStateCallback`` on ``state`` the first time, nothing afterwards. The file is rewritten
    after every operation result as ``{host: {"operations": n, "changed": n, "failed": n}}``, so
    a run that dies half-way still leaves what it did. No-op when the variable is unset.
    """
    path = os.environ.get("LIBRARYOPS_PYINFRA_STATS")
    if not path or any(isinstance(h, _ChangeRecorder) for h in state.callback_handlers):
        return
    state.add_callback_handler(_ChangeRecorder(Path(path)))


class _ChangeRecorder(BaseStateCallback):
    """pyinfra callback: per-host operation, change and failure counts, written as JSON."""

    def __init__(self, path: Path):
        self.path = path
        self.counts: dict[str, dict[str, int]] = defaultdict(
            lambda: {"operations": 0, "changed": 0, "failed": 0}
        )
        self.path.write_text("{}\n", encoding="utf-8")

    def _write(self) -> None:
        self.path.write_text(json.dumps(self.counts, indent=2, sort_keys=True), encoding="utf-8")

    def operation_end(self, state, op_hash):
        # Per-host results are final only once the operation has ended on every host.
        for host, ops in state.ops.items():
            meta = ops[op_hash].operation_meta if op_hash in ops else None
            if meta is None or not meta.is_complete():
                continue
            counts = self.counts[host.name]
            counts["operations"] += 1
            counts["changed"] += int(meta.did_change())
            counts["failed"] += int(not meta.did_succeed())
        self._write()

    def host_connect_error(self, state, host, error):
        self.counts[host.name]["failed"] += 1
        self._write()


@dataclass
class HostRow:
    """One host's line in the summary: changes per engine and testinfra results."""

    changes: dict[str, int] = field(default_factory=dict)
    engine_failures: int = 0
    passed: int = 0
    failed: int = 0


def _engine_rows(directory: Path, rows: dict[str, HostRow]) -> None:
    for stats in sorted(directory.glob("ansible-*.json")):
        for host, recap in json.loads(stats.read_text(encoding="utf-8")).items():
            row = rows[host]
            row.changes["ansible"] = row.changes.get("ansible", 0) + recap.get("changed", 0)
            row.engine_failures += recap.get("failures", 0) + recap.get("unreachable", 0)
    for stats in sorted(directory.glob("pyinfra-*.json")):
        for host, counts in json.loads(stats.read_text(encoding="utf-8")).items():
            row = rows[host]
            row.changes["pyinfra"] = row.changes.get("pyinfra", 0) + counts["changed"]
            row.engine_failures += counts["failed"]


def _test_rows(junit: Path, rows: dict[str, HostRow]) -> None:
    for case in ET.parse(junit).getroot().iter("testcase"):
        prop = case.find(f"properties/property[@name='{HOST_PROPERTY}']")
        host = prop.get("value") if prop is not None else "(no host)"
        if case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            rows[host].failed += 1
        else:
            rows[host].passed += 1


def summarize(directory: Path) -> dict[str, HostRow]:
    """Read a run's reports directory into ``{host: HostRow}`` (see the module docstring)."""
    rows: dict[str, HostRow] = defaultdict(HostRow)
    _engine_rows(directory, rows)
    junit = directory / "testinfra.xml"
    if junit.exists():
        _test_rows(junit, rows)
    return dict(rows)


def format_table(rows: dict[str, HostRow]) -> str:
    """The summary as a fixed-width text table, one host per line."""
    engines = sorted({e for row in rows.values() for e in row.changes})
    header = ["host"] + [f"{e} changed" for e in engines] + ["engine failures", "checks passed",
                                                             "checks failed"]
    lines = [header]
    for host in sorted(rows):
        row = rows[host]
        lines.append([host] + [str(row.changes.get(e, "-")) for e in engines]
                     + [str(row.engine_failures), str(row.passed), str(row.failed)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry: print the summary; exit 1 on failures (or changes with --expect-no-changes)."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.report")
    parser.add_argument("command", choices=["summary"])
    parser.add_argument("--dir", type=Path, required=True, help="reports/<site> of the run")
    parser.add_argument("--expect-no-changes", action="store_true",
                        help="fail when any engine changed anything (the second run)")
    args = parser.parse_args(argv)
    rows = summarize(args.dir)
    if not rows:
        print(f"summary: no engine or test results in {args.dir}", file=sys.stderr)
        return 1
    print(format_table(rows))
    problems = []
    if any(r.failed or r.engine_failures for r in rows.values()):
        problems.append("some checks or engine runs failed")
    changed = sum(sum(r.changes.values()) for r in rows.values())
    if args.expect_no_changes and changed:
        problems.append(f"expected zero changes, the engines reported {changed}")
    for problem in problems:
        print(f"summary: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
