"""`make bench-smoke`: the bench's no-op phases on two throwaway hosts, once.

A smoke of the benchmark (tools/bench/), not a benchmark: it checks that every phase ran
and reported, never how long anything took. The bench adds its own hosts (bench-pub-01/02) to
the lab, or starts the lab's shared pieces if they are down, and removes exactly its hosts.
"""

import json
import re
import subprocess
from pathlib import Path

from libraryops import paths
from libraryops.lab.config import load_config

#: (engine, phase) rows the smoke must report at N=2.
NOOP_PHASES = {
    ("ssh", "floor-cm-off"), ("ssh", "floor-cm-on"), ("pyinfra", "noop"), ("ansible", "noop"),
    ("testinfra", "verify-serial"), ("testinfra", "verify-xdist"),
}
AZURE_PHASES = {("azure", "apply"), ("azure", "plan")}


def _bench_hosts_left():
    hosts = load_config(paths.site_dir("lab")).layout.hosts
    return sorted(p.name for p in hosts.iterdir() if p.name.startswith("bench-")) if (
        hosts.is_dir()) else []


def test_bench_smoke_reports_every_no_op_phase_and_removes_its_hosts():
    proc = subprocess.run(["make", "bench-smoke"], cwd=paths.REPO, capture_output=True,
                          text=True, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    found = re.findall(r"^bench: (\S+\.md) and (\S+\.json)", proc.stdout, re.MULTILINE)
    assert found, output[-2000:]
    markdown = Path(found[-1][0])
    document = json.loads(markdown.with_suffix(".json").read_text())
    assert markdown.is_file()

    rows = {(r["engine"], r["phase"]): r for r in document["rows"]}
    assert set(rows) == NOOP_PHASES | AZURE_PHASES
    for key in NOOP_PHASES:
        assert rows[key]["n"] == 2 and rows[key]["runs"] == 1 and rows[key]["failed_runs"] == 0
    for engine in ("pyinfra", "ansible"):
        assert rows[(engine, "noop")]["changes"] == 0
    assert rows[("azure", "plan")]["requests"] > 0
    text = markdown.read_text()
    for engine, phase in NOOP_PHASES | AZURE_PHASES:
        label = document["phases"][f"{engine}/{phase}"]
        assert re.search(rf"^\| {engine} \| {re.escape(label)} \|", text, re.MULTILINE), label
    for engine in ("pyinfra", "ansible", "testinfra", "ssh"):
        assert f"**{engine}**" in text  # the SSH settings of each engine are stated
    assert not _bench_hosts_left()
