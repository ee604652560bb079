"""The bench's report: samples grouped into the table, the machine it ran on, Markdown and JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from libraryops import paths
from tools.bench.runner import Bench
from tools.bench.settings import (
    COLD_N,
    PHASES,
    PLAYBOOK,
    SSH_SETTINGS,
    Row,
    Sample,
)


def summarize(samples: list[Sample], skipped: dict[str, int] | None = None) -> list[Row]:
    """Group samples into table rows, ordered by phase then N, with both ratios filled in.

    Args:
        samples: every measured run.
        skipped: ``"engine/phase/n"`` -> runs skipped for the time budget.
    """
    groups: dict[tuple[str, str, int | None], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.engine, sample.phase, sample.n), []).append(sample)
    rows = []
    for (engine, phase, n), found in groups.items():
        seconds = [s.seconds for s in found]
        changes = [s.changes for s in found if s.changes is not None]
        counted = [s.requests for s in found if s.requests is not None]
        rows.append(Row(engine, phase, n, len(found), round(statistics.median(seconds), 2),
                        min(seconds), max(seconds),
                        peak_rss_mib=max(s.peak_rss_mib for s in found),
                        changes=sum(changes) if changes else None,
                        failed_runs=sum(not s.ok for s in found),
                        requests=statistics.median(counted) if counted else None,
                        skipped=(skipped or {}).get(f"{engine}/{phase}/{'' if n is None else n}",
                                                    0),
                        cpu=round(statistics.median(s.cpu_seconds for s in found), 1),
                        label=PHASES.get((engine, phase), phase)))
    floors = {r.n: r.median for r in rows if r.phase == "floor-cm-off"}
    medians = {(r.engine, r.phase, r.n): r.median for r in rows}
    for row in rows:
        if row.n in floors and floors[row.n] > 0 and row.engine != "azure":
            ratio = row.median / floors[row.n]
            row.floor_ratio = round(ratio, 1 if ratio >= 1 else 2)
        other = medians.get(("ansible", row.phase, row.n))
        if row.engine == "pyinfra" and other:
            row.pyinfra_ansible = round(row.median / other, 2)
    order = list(PHASES)
    rows.sort(key=lambda r: (order.index((r.engine, r.phase)) if (r.engine, r.phase) in order
                             else len(order), r.n or 0))
    return rows


def goals(rows: list[Row]) -> list[str]:
    """Issue 18's goals, each as one Markdown list line with the measured figure, "met" or
    "not met", or why the run has no figure for it (e.g. the smoke, which has no baseline rows).

    The goals (seconds are medians): the baseline's site.yml no-op at most 5 s per host, and
    growing at most 2x from the smallest to the largest N; the public-PC verify (xdist) of the
    largest N within 10 s; pyinfra's public-PC no-op of the largest N within 3x the SSH floor.
    """
    found = {(r.engine, r.phase, r.n): r for r in rows}
    counts = sorted({r.n for r in rows if r.n})
    if not counts:
        return []
    low, high = counts[0], counts[-1]

    def verdict(ok: bool) -> str:
        return "met" if ok else "not met"

    lines = []
    base = [found[("baseline", "noop", n)] for n in counts if ("baseline", "noop", n) in found]
    if base:
        per_host = ", ".join(f"{r.median / r.n:.1f} s at N={r.n}" for r in base)
        lines.append(f"- baseline no-op ≤ 5 s per host: {per_host} — "
                     f"{verdict(all(r.median / r.n <= 5 for r in base))}")
        first, last = found.get(("baseline", "noop", low)), found.get(("baseline", "noop", high))
        if first and last and high > low:
            growth = last.median / first.median
            lines.append(f"- baseline no-op growing ≤ 2× from N={low} to N={high}: "
                         f"{growth:.2f}× — {verdict(growth <= 2)}")
    else:
        lines.append("- baseline no-op: not measured in this run (the smoke has none)")
    verify = found.get(("testinfra", "verify-xdist", high))
    if verify:
        lines.append(f"- verify of {high} PCs ≤ 10 s: {verify.median:.1f} s — "
                     f"{verdict(verify.median <= 10)}")
    pyinfra = found.get(("pyinfra", "noop", high))
    if pyinfra and pyinfra.floor_ratio is not None:
        lines.append(f"- pyinfra no-op of {high} PCs ≤ 3× the SSH floor: {pyinfra.floor_ratio:g}× "
                     f"— {verdict(pyinfra.floor_ratio <= 3)}")
    lines.append("- the second `make lab` ≤ 60 s: not a bench figure (the bench never contacts "
                 "the lab's hosts); `make lab` prints each phase's seconds")
    return lines


def format_table(rows: list[Row], largest: int) -> str:
    """The rows as a Markdown table (peak memory shown at the largest N and for Azure)."""
    header = ("| engine | phase | N | runs | median s | min–max s | × floor | pyinfra/Ansible "
              "| controller CPU s | changes | peak RSS MiB |")
    lines = [header, "|" + "---|" * 11]
    for r in rows:
        memory = f"{r.peak_rss_mib:.0f}" if r.n in (largest, None) else ""
        changes = "" if r.changes is None else str(r.changes)
        if r.requests is not None:
            changes = f"{r.requests:.0f} HTTP requests"
        flag = f" ({r.failed_runs} not ok)" if r.failed_runs else ""
        if r.skipped:
            flag += f" ({r.skipped} skipped: time budget)"
        lines.append(
            f"| {r.engine} | {r.label}{flag} | {r.n if r.n is not None else '–'} | {r.runs} "
            f"| {r.median:.1f} | {r.low:.1f}–{r.high:.1f} "
            f"| {'' if r.floor_ratio is None else f'{r.floor_ratio:g}'} "
            f"| {'' if r.pyinfra_ansible is None else f'{r.pyinfra_ansible:.2f}'} "
            f"| {r.cpu:.1f} | {changes} | {memory} |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    """What the figures depend on: machine, load, versions, commit."""
    def output(argv: list[str]) -> str:
        proc = subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (
            proc.stdout or proc.stderr) else ""

    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                                    * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "pyinfra": version("pyinfra"), "ansible-core": version("ansible-core"),
        "pytest-xdist": version("pytest-xdist"), "openssh": output(["ssh", "-V"]),
        "commit": output(["git", "describe", "--always", "--dirty"]),
    }


def write_report(bench: Bench, directory: Path, info: dict[str, Any], total: float) -> Path:
    """Write ``bench-<date>.md`` and ``.json`` into ``directory``; return the .md path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = summarize(bench.samples, bench.skipped)
    largest = max(bench.counts)
    hosts = sorted(bench.pub)[:largest]
    fresh = COLD_N
    hosts_note = f"{', '.join(hosts[:fresh])} converged by pyinfra"
    if len(hosts) > fresh:
        hosts_note += f", {hosts[fresh]}…{hosts[-1]} copies of {hosts[0]}'s disk"
    lines = [
        f"# libraryops bench, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
        f"N = {' '.join(map(str, bench.counts))}, up to {bench.repeat} run(s) per phase"
        f"{f' within a {bench.budget / 60:.0f}-minute budget' if bench.budget else ''}"
        f"{', no-op phases only (smoke)' if bench.noop_only else ''}; total "
        f"{total / 60:.1f} min. Machine: {info['cpus']} CPUs, {info['memory_gib']} GiB, "
        f"load average at start {info['load_start']:.1f}, at end {info['load_end']:.1f} "
        "(shared with other work: read ratios, not absolute seconds). Commit "
        f"{info['commit']}; pyinfra {info['pyinfra']}, ansible-core {info['ansible-core']}, "
        f"{info['openssh']}.", "",
        f"Hosts: {hosts_note}; all kiosk sessions running. Seconds are wall-clock; "
        "`× floor` is the median over "
        "the `floor-cm-off` median at the same N; `controller CPU s` is the median CPU time "
        "of the engine's own process tree (the hosts' share of the work is not in it: here the "
        "hosts run on the same cores, on real PCs each on its own); `changes` is the sum over "
        "the runs (no-op runs must be 0); peak RSS is shown at the largest N.", "",
        format_table(rows, largest), "",
        "## Goals", "", *goals(rows), "",
        "## SSH settings", "",
        *[f"- **{engine}**: {text}" for engine, text in SSH_SETTINGS.items()], "",
    ]
    if bench.proof:
        p = bench.proof
        lines += ["## The Ansible equivalent does the same work", "",
                  f"- `{PLAYBOOK}` converged fresh hosts {', '.join(p['hosts'])}: the public-PC "
                  f"suites passed {p['passed']} checks, failed {p['failed']};",
                  f"- pyinfra over those Ansible-converged hosts changed "
                  f"{p['pyinfra_changes_on_them']} things, and every Ansible no-op run above "
                  "ran over pyinfra-converged hosts (its `changes`).", ""]
    lines += ["## Setup (not measured in the table)", "",
              ", ".join(f"{k} {v:.0f} s" for k, v in bench.setup.items()) + ".", ""]
    if bench.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in bench.notes], ""]
    if bench.problems:
        lines += ["## Problems", "", *[f"- {p}" for p in bench.problems], ""]
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"bench-{stamp}.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")
    document = {"date": stamp, "counts": bench.counts, "repeat": bench.repeat,
                "noop_only": bench.noop_only, "total_seconds": round(total, 1),
                "environment": info, "ssh_settings": SSH_SETTINGS, "phases": {
                    f"{e}/{p}": label for (e, p), label in PHASES.items()},
                "rows": [asdict(r) for r in rows], "samples": [asdict(s) for s in bench.samples],
                "proof": bench.proof, "setup_seconds": bench.setup, "notes": bench.notes,
                "problems": bench.problems,
                "budget_seconds": bench.budget, "skipped": bench.skipped}
    markdown.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n",
                                             encoding="utf-8")
    print("\n" + format_table(rows, largest) + "\n\n" + "\n".join(goals(rows)) + "\n",
          flush=True)
    return markdown
