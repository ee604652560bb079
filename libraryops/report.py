"""Run reports: what each engine changed (or would change) on each host, and what testinfra found.

Inputs, all written under one reports directory by a run (``reports/<site>/`` or its ``plan/``):

- ``ansible-<playbook>.json``: per-host recap from the ``libraryops_stats`` callback plugin
  (``{host: {ok, changed, failures, unreachable, ...}}``); in ``--check`` mode ``changed``
  counts what *would* change;
- ``pyinfra-<deploy>.json``: pyinfra's own ``--json`` output: ``{"plan": [...], "results":
  {...} | null}`` — with ``--dry`` only the plan (per operation ``hosts_with_change`` and
  ``hosts_with_conditional_change``), otherwise per operation ``success`` (changed),
  ``no_change`` and ``error`` host lists plus ``failed_hosts``;
- ``testinfra.xml``: pytest's JUnit XML of the testinfra suites (each case carries the checked
  host in the :data:`HOST_PROPERTY` property).

``python -m libraryops.report summary --dir reports/lab [--expect-no-changes]`` prints one row
per host and exits 1 when a check failed, an engine failed or a host was unreachable, or, with
``--expect-no-changes``, when any engine changed anything.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: JUnit property that tests/testinfra/conftest.py records for every test: the host it checked.
HOST_PROPERTY = "testinfra_host"


@dataclass
class HostRow:
    """One host's line in a summary.

    Attributes:
        changes: engine name -> operations/tasks changed (or, for a plan, that would change).
        conditional: engine name -> pyinfra operations that change only if an earlier one does.
        engine_failures: failed tasks/operations, all engines.
        unreachable: an engine could not connect to the host.
        passed: testinfra checks passed.
        failed: testinfra checks failed or errored.
    """

    changes: dict[str, int] = field(default_factory=dict)
    conditional: dict[str, int] = field(default_factory=dict)
    engine_failures: int = 0
    unreachable: bool = False
    passed: int = 0
    failed: int = 0


def _add(counter: dict[str, int], engine: str, n: int) -> None:
    counter[engine] = counter.get(engine, 0) + n


def _ansible_rows(stats: Path, rows: dict[str, HostRow]) -> None:
    for host, recap in json.loads(stats.read_text(encoding="utf-8")).items():
        row = rows[host]
        _add(row.changes, "ansible", recap.get("changed", 0))
        row.engine_failures += recap.get("failures", 0)
        row.unreachable |= bool(recap.get("unreachable", 0))


def _pyinfra_rows(output: Path, rows: dict[str, HostRow]) -> None:
    data = json.loads(output.read_text(encoding="utf-8") or "{}")
    results = data.get("results")
    if results is None:  # --dry: the plan only
        for op in data.get("plan", []):
            for host in op["hosts_with_change"]:
                _add(rows[host].changes, "pyinfra", 1)
            for host in op["hosts_with_conditional_change"]:
                _add(rows[host].conditional, "pyinfra", 1)
        return
    for op in results["operations"]:
        for host in op["success"]:
            _add(rows[host].changes, "pyinfra", 1)
        for host in op["no_change"]:
            _add(rows[host].changes, "pyinfra", 0)
        for host in op["error"]:
            rows[host].engine_failures += 1
    for host in results.get("failed_hosts", []):
        rows[host].engine_failures += 1


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


def summarize(directory: Path, pyinfra: list[str] | None = None,
              junit: str | None = "testinfra.xml", ansible: bool = True) -> dict[str, HostRow]:
    """Read a run's reports directory into ``{host: HostRow}`` (see the module docstring).

    Args:
        directory: the run's reports directory.
        pyinfra: only these ``pyinfra-<name>.json`` files (default: all of them).
        junit: the JUnit file name in ``directory`` to read, or None for none.
        ansible: read the ``ansible-*.json`` recaps too.
    """
    rows: dict[str, HostRow] = defaultdict(HostRow)
    if ansible and pyinfra is None:
        for stats in sorted(directory.glob("ansible-*.json")):
            _ansible_rows(stats, rows)
    names = pyinfra if pyinfra is not None else sorted(
        p.name[len("pyinfra-"):-len(".json")] for p in directory.glob("pyinfra-*.json"))
    for name in names:
        output = directory / f"pyinfra-{name}.json"
        if output.exists():
            _pyinfra_rows(output, rows)
    if junit and (directory / junit).exists():
        _test_rows(directory / junit, rows)
    return dict(rows)


def format_table(rows: dict[str, HostRow], verb: str = "changed") -> str:
    """The summary as a fixed-width text table, one host per line.

    Args:
        rows: from :func:`summarize`.
        verb: the column word: "changed" for a run, "would change" for a plan.
    """
    engines = sorted({e for row in rows.values() for e in row.changes})
    checked = any(row.passed or row.failed for row in rows.values())
    header = ["host", *(f"{e} {verb}" for e in engines), "engine failures",
              *(["checks passed", "checks failed"] if checked else [])]
    lines = [header]
    for host in sorted(rows):
        row = rows[host]
        cells = []
        for engine in engines:
            cell = str(row.changes.get(engine, "-"))
            if row.conditional.get(engine) and row.changes.get(engine):
                cell += f" (+{row.conditional[engine]} if so)"
            cells.append(cell)
        failures = "UNREACHABLE" if row.unreachable else str(row.engine_failures)
        lines.append([host, *cells, failures,
                      *([str(row.passed), str(row.failed)] if checked else [])])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def problems(rows: dict[str, HostRow], expect_no_changes: bool = False) -> list[str]:
    """What makes a run fail: unreachable hosts, engine failures, failed checks, and (when
    ``expect_no_changes``) any change. Empty when the run is clean."""
    found = []
    unreachable = sorted(h for h, r in rows.items() if r.unreachable)
    if unreachable:
        found.append(f"unreachable: {', '.join(unreachable)}")
    failing = sorted(h for h, r in rows.items() if r.failed or r.engine_failures)
    if failing:
        found.append(f"checks or engine runs failed on: {', '.join(failing)}")
    changed = sum(sum(r.changes.values()) for r in rows.values())
    if expect_no_changes and changed:
        found.append(f"expected zero changes, the engines reported {changed}")
    return found


def main(argv: list[str] | None = None) -> int:
    """CLI entry: print the summary; exit 1 on problems (see :func:`problems`)."""
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
    found = problems(rows, args.expect_no_changes)
    for problem in found:
        print(f"summary: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())


def _check_name(test_name: str, host: str) -> str:
    """``test_x_y[ansible://host-param]`` -> ``X y (param)``."""
    base, _, params = test_name.partition("[")
    params = params.rstrip("]").removeprefix(f"ansible://{host}").strip("-")
    text = base.removeprefix("test_").replace("_", " ")
    return text[:1].upper() + text[1:] + (f" ({params})" if params else "")


#: A check's reason that says it could not reach the host at all: ssh's own exit status 255 and
#: its connect errors (``man ssh``: "ssh exits with ... 255 if an error occurred").
_CONNECTION_FAILURE = re.compile(r"exit code 255|ssh: connect to host|Connection (timed out|"
                                 r"refused|closed)|No route to host|UNREACHABLE")


def not_reached(checks: list[dict]) -> bool:
    """Whether a host's checks (``{"status", "why"}`` dicts of :func:`verify_html`) all failed
    because nothing could connect to it: the host was not verified at all. Whether that is off
    as scheduled or unreachable is the host-state model's to say; until then, "not reached"."""
    return bool(checks) and all(c["status"] == "failed" and _CONNECTION_FAILURE.search(c["why"])
                                for c in checks)


def verify_results(inventory, junit: Path) -> tuple[list[dict], dict]:
    """The checks of a verification run, per branch and host, for people.

    Args:
        inventory: the site (:class:`libraryops.inventory.SiteInventory`): branches, names and
            function groups of the hosts.
        junit: pytest's JUnit XML of the run (each case has the :data:`HOST_PROPERTY`).

    Returns:
        ``(branches, totals)``: per branch ``{group, name, hosts, passed, failed, drifted,
        not_reached}`` with per host ``{name, role, checks, failed, passed, not_reached}`` and
        per check ``{area, name, status, why}``; totals ``{hosts, passed, failed,
        drifted_hosts, not_reached}``. A host nothing could connect to (:func:`not_reached`)
        counts as not reached, not as failed.
    """
    checks: dict[str, list[dict]] = defaultdict(list)
    for case in ET.parse(junit).getroot().iter("testcase"):
        prop = case.find(f"properties/property[@name='{HOST_PROPERTY}']")
        if prop is None or case.find("skipped") is not None:
            continue
        problem = case.find("failure")
        problem = problem if problem is not None else case.find("error")
        why = ""
        if problem is not None:
            why = (problem.get("message") or problem.text or "").strip().splitlines()[:1]
            why = why[0][:300] if why else "failed"
        checks[prop.get("value")].append({
            "area": case.get("classname", "").rsplit(".", 1)[-1].removeprefix("test_")
            .replace("_", " "),
            "name": _check_name(case.get("name", ""), prop.get("value")),
            "status": "failed" if problem is not None else "passed",
            "why": why,
        })
    branches = []
    for group, members in sorted(inventory.branches.items()):
        hosts = []
        for name in members:
            found = checks.get(name, [])
            failed = sum(c["status"] == "failed" for c in found)
            role = next((g for g in ("public_pcs", "staff_machines", "wireless_aps")
                         if name in inventory.groups.get(g, [])), "host").replace("_", " ")
            unverified = not_reached(found)  # its checks did not fail: they never ran
            hosts.append({"name": name, "role": role.rstrip("s"), "checks": found,
                          "failed": 0 if unverified else failed, "passed": len(found) - failed,
                          "not_reached": unverified})
        branch_name = inventory.hosts[members[0]].get("branch__name", group) if members else group
        branches.append({
            "group": group, "name": f"{branch_name} ({group})", "hosts": hosts,
            "passed": sum(h["passed"] for h in hosts), "failed": sum(h["failed"] for h in hosts),
            "drifted": [h["name"] for h in hosts if h["failed"]],
            "not_reached": [h["name"] for h in hosts if h["not_reached"]],
        })
    totals = {
        "hosts": sum(len(b["hosts"]) for b in branches),
        "passed": sum(b["passed"] for b in branches),
        "failed": sum(b["failed"] for b in branches),
        "drifted_hosts": sum(len(b["drifted"]) for b in branches),
        "not_reached": sum(len(b["not_reached"]) for b in branches),
    }
    return branches, totals


def verify_html(site: str, inventory, junit: Path) -> str:
    """The verification report for a non-programmer: one section per branch, one block per host
    with a line per check, failures (drift) highlighted with the first line of their reason,
    hosts nothing could connect to marked "not reached" (:func:`verify_results`).

    Returns:
        A self-contained HTML page (no scripts, no external resources). The caller redacts it.
    """
    branches, totals = verify_results(inventory, junit)
    return render_html("verify.html.j2", site=site, site_name=site_name(inventory, site),
                       when=time.strftime("%Y-%m-%d %H:%M %Z"), branches=branches,
                       totals=totals)


def site_name(inventory, site: str) -> str:
    """The library's name for people (``site__name`` of a
    :class:`libraryops.inventory.SiteInventory`), else the site's directory name."""
    return next((v.get("site__name") for v in inventory.hosts.values()), None) or site


def render_html(template: str, **context: Any) -> str:
    """A report page from ``libraryops/templates/<template>`` (Jinja2, autoescaped: every value
    from an inventory or a host is text, never markup)."""
    import jinja2  # the templating Ansible itself uses; imported here, only for reports

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
    return environment.get_template(template).render(**context)
