"""One bench run: its state, the sequence of phases and the time budget.
"""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from libraryops import paths
from libraryops.engines import BIN, Pipeline
from libraryops.lab.config import LabConfig, load_config
from libraryops.lab.hosts import running as host_running
from tools.bench.hosts import LabHosts
from tools.bench.runs import MeasuredRuns
from tools.bench.sampling import TreeSampler, all_pids, kill_group
from tools.bench.settings import (
    BOOT_BATCH,
    CLEANUP_RESERVE,
    COLD_N,
    MAX_HOSTS,
    PLAYBOOKS,
    PROOF_HOSTS,
    PROOF_OFFSET,
    PROOF_PREFIX,
    RUN_TIMEOUT,
    XDIST_WORKERS,
    BenchError,
    Sample,
)
from tools.bench.sites import (
    bench_hosts,
    lab_network,
    write_set,
    write_site,
)


class Bench(LabHosts, MeasuredRuns):
    """One bench run: its state directory, hosts, samples and notes (see the module docstring).

    Args:
        counts: the host counts N, ascending.
        repeat: runs per measured phase (the cold converges run once).
        noop_only: the smoke: no cold converges, no Ansible proof.
        state: the run's temporary directory (inventories, engine outputs).
        budget: seconds the whole run should take (0: no limit); repetitions that would
            overrun it are skipped (:meth:`fits`).
    """

    def __init__(self, counts: Sequence[int], repeat: int, noop_only: bool, state: Path,
                 budget: float = 0):
        self.counts = sorted(set(counts))
        self.repeat = repeat
        self.budget = budget
        self.skipped: dict[str, int] = {}
        self.azure_site = state / "azure"
        self.noop_only = noop_only
        self.state = state
        self.samples: list[Sample] = []
        self.notes: list[str] = []
        self.setup: dict[str, float] = {}
        self.proof: dict[str, Any] = {}
        self.problems: list[str] = []
        self.running: set[str] = set()
        self.last_cpu = 0.0
        self.started = time.monotonic()
        self._sequence = 0
        self._running: set[int] = set()
        self.network = lab_network()
        largest = max(self.counts)
        self.pub = bench_hosts(self.network, max(largest, COLD_N))
        self.ans = {} if noop_only else bench_hosts(self.network, PROOF_HOSTS, PROOF_PREFIX,
                                                    PROOF_OFFSET)
        write_site(state)
        self.sweep = write_set(state, "all-bench-hosts",
                               {**bench_hosts(self.network, MAX_HOSTS),
                                **bench_hosts(self.network, PROOF_HOSTS, PROOF_PREFIX,
                                              PROOF_OFFSET)})
        self.lab: LabConfig = load_config(self.sweep)
        self.user = self.lab.hosts[0].user or "root"
        self.standin_dir = state / "arm"

    # -- helpers -------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        """Print one progress line with the time since the bench began."""
        print(f"bench [{time.monotonic() - self.started:6.0f} s] {message}", flush=True)

    def env(self, site: Path, **extra: str) -> dict[str, str]:
        """The engines' environment for a bench site: the pipeline's own
        (:attr:`libraryops.engines.Pipeline.env`), without the canary filter of `make apply`."""
        env = dict(Pipeline("lab", inventory=site).env)
        env.pop("LIBRARYOPS_VERIFY_HOSTS", None)
        env.update(extra)
        return env

    def run_dir(self, label: str) -> Path:
        """A new directory for one run's output (``runs/<seq>-<label>``)."""
        self._sequence += 1
        directory = self.state / "runs" / f"{self._sequence:03d}-{label}"
        directory.mkdir(parents=True)
        return directory

    def execute(self, argv: Sequence[str], env: dict[str, str], out: Path, stdout: str = "out.log",
                timeout: float = RUN_TIMEOUT) -> tuple[float, int, float]:
        """Run one command from the repository root, timed and sampled.

        Its standard output goes to ``out/<stdout>``, errors to ``out/err.log``.
        Returns (seconds, exit status, peak RSS of its process tree in MiB); the CPU seconds
        (user + system) of the command and the descendants it waited for are left in
        :attr:`last_cpu` (the controller's work; the hosts' own work is not in it).
        """
        known = all_pids()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(out / stdout, "w") as handle, open(out / "err.log", "w") as errors:
            start = time.monotonic()
            proc = subprocess.Popen(list(argv), cwd=paths.REPO, env=env, stdin=subprocess.DEVNULL,
                                    stdout=handle, stderr=errors, start_new_session=True)
            self._running.add(proc.pid)
            sampler = TreeSampler(proc.pid, known)
            sampler.start()
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                status = proc.wait()
            finally:
                seconds = time.monotonic() - start
                peak = sampler.stop()
                self._running.discard(proc.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.last_cpu = round(after.ru_utime + after.ru_stime
                              - before.ru_utime - before.ru_stime, 2)
        return round(seconds, 2), status, peak

    def setup_step(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None,
                   check: bool = True) -> float:
        """Run a setup command (not measured for the table); return its seconds.

        Raises:
            BenchError: it failed (the message carries its last output lines).
        """
        out = self.run_dir(f"setup-{name}")
        seconds, status, _ = self.execute(argv, env or self.env(self.sweep), out)
        self.setup[name] = round(self.setup.get(name, 0) + seconds, 1)
        if check and status != 0:
            tail = ((out / "out.log").read_text() + (out / "err.log").read_text())[-1500:]
            raise BenchError(f"{name} failed (exit {status}); output in {out}:\n{tail}")
        self.log(f"{name}: {seconds:.1f} s")
        return seconds

    def record(self, sample: Sample) -> Sample:
        """Keep a sample (with the CPU seconds of the run that made it) and print it."""
        sample.cpu_seconds = self.last_cpu
        self.samples.append(sample)
        bits = [f"{sample.seconds:.1f} s", f"CPU {sample.cpu_seconds:.1f} s",
                f"peak {sample.peak_rss_mib:.0f} MiB"]
        if sample.changes is not None:
            bits.append(f"{sample.changes} changes")
        if sample.passed is not None:
            bits.append(f"{sample.passed} passed, {sample.failed} failed")
        if sample.requests is not None:
            bits.append(f"{sample.requests} requests")
        where = f"n={sample.n} " if sample.n else ""
        flag = f"  NOT OK: {sample.note}" if not sample.ok else (
            f"  ({sample.note})" if sample.note else "")
        self.log(f"{where}rep {sample.rep}: {sample.engine} {sample.phase}: "
                 f"{', '.join(bits)}{flag}")
        if not sample.ok:
            self.problems.append(f"{sample.engine} {sample.phase} n={sample.n} rep "
                                 f"{sample.rep}: {sample.note}")
            gone = sorted(h for h in self.running if not host_running(self.lab.layout, h))
            if gone:
                raise BenchError(f"bench hosts {', '.join(gone)} are gone (did someone run "
                                 "`make lab-down`?): stopping")
        return sample

    # -- the sequence ----------------------------------------------------------------------------

    def run(self) -> None:
        """Everything, in order (see the module docstring); hosts are removed by :meth:`cleanup`.

        Raises:
            BenchError: a setup step failed.
        """
        self.check_addresses()
        self.lab_cli("down", self.sweep, only=True)  # leftovers of an interrupted run
        cold = dict(list(self.pub.items())[:COLD_N])
        fresh = write_set(self.state, "fresh", {**cold, **self.ans})
        self.lab_cli("up", fresh)
        self.bootstrap(fresh)
        pyinfra_cold = write_set(self.state, "cold-pyinfra", cold)
        if self.noop_only:
            self.setup_step("converge-pyinfra", [
                str(BIN / "pyinfra"), "--json", "-y", "deploy/inventory.py",
                "deploy/public_pc.py", "--limit", "public_pcs"], self.env(pyinfra_cold))
        else:
            self.pyinfra("cold", COLD_N, 1, pyinfra_cold, cold.values())
            # The baseline every Linux host gets, on the same hosts: copies carry it too.
            self.ansible("cold", COLD_N, 1, pyinfra_cold, cold.values(), engine="baseline")
            self.prove_ansible()
        source = next(iter(cold))
        largest = max(self.counts)
        if largest > COLD_N:  # every host the largest N needs, up once for all rounds
            self.clone(source, self.pub[source], list(self.pub)[COLD_N:largest])
            for end in range(COLD_N, largest, BOOT_BATCH):  # a few at a time: no boot storm
                batch = dict(list(self.pub.items())[:min(end + BOOT_BATCH, largest)])
                self.lab_cli("up", write_set(self.state, f"up{len(batch):02d}", batch))
        self.wait_sessions(self.pub)
        sets = {n: write_set(self.state, f"n{n:02d}", dict(list(self.pub.items())[:n]))
                for n in self.counts}
        if not self.noop_only and largest > COLD_N:
            # A copy is not yet its own host to the baseline (new SSH host keys, machine id):
            # one unmeasured run over every host, so that the measured runs are no-ops.
            self.setup_step("baseline-copies", [
                str(BIN / "ansible-playbook"), "-i", str(sets[largest] / "hosts.yml"),
                PLAYBOOKS["baseline"]], self.env(sets[largest]))
        self.azure_setup()
        for rep in range(1, self.repeat + 1):
            for group in ("engines", "verify"):
                for n in self.counts:
                    self.measure(group, n, rep, sets[n], dict(list(self.pub.items())[:n]))
            self.azure_plan(rep)

    def prove_ansible(self) -> None:
        """The Ansible cold converge on its own fresh hosts, the baseline on them (unmeasured), the
        suites on them, and a pyinfra run over them that must change nothing; then those hosts
        are removed."""
        site = write_set(self.state, "cold-ansible", self.ans)
        self.ansible("cold", COLD_N, 1, site, self.ans.values())
        # The suites also check what the baseline brings every host (faketime, for the power
        # schedule's verifier), as on the pyinfra-converged hosts: not measured.
        self.setup_step("baseline-proof", [
            str(BIN / "ansible-playbook"), "-i", str(site / "hosts.yml"), PLAYBOOKS["baseline"]],
            self.env(site))
        self.wait_sessions(self.ans)
        checks = self.verify(COLD_N, 1, site, self.ans.values(), 1, phase="proof")
        cross = self.pyinfra("cross", COLD_N, 1, site, self.ans.values())
        self.samples.remove(checks)  # facts for the report, not table rows
        self.samples.remove(cross)
        self.proof = {"hosts": sorted(self.ans), "passed": checks.passed, "failed": checks.failed,
                      "suites_ok": checks.ok, "pyinfra_changes_on_them": cross.changes,
                      "pyinfra_ok": cross.ok and cross.changes == 0}
        if not checks.ok or checks.failed:
            self.problems.append(f"the Ansible equivalent failed the public-PC suites: "
                                 f"{checks.note}")
        if cross.changes:
            self.problems.append(f"pyinfra changed {cross.changes} things on the Ansible-"
                                 "converged hosts: the two are not the same work")
        self.lab_cli("down", site, only=True)

    def measure(self, group: str, n: int, rep: int, site: Path, hosts: dict[str, str]) -> None:
        """One repetition of a group of phases at one N: ``engines`` (the floors, pyinfra, its
        Ansible equivalent and, but in the smoke, the baseline's site.yml) or ``verify``
        (testinfra serial and xdist).

        A repetition goes over the engines at every N, then the verify runs at every N, before
        the next one starts: noise spreads evenly over engines and counts, and when the time
        budget runs short the runs it skips (see :meth:`fits`) are the verify runs first.
        """
        addresses = list(hosts.values())
        steps = [
            ("ssh", "floor-cm-off", lambda: self.floor(n, rep, hosts, master=False)),
            ("ssh", "floor-cm-on", lambda: self.floor(n, rep, hosts, master=True)),
            ("pyinfra", "noop", lambda: self.pyinfra("noop", n, rep, site, addresses)),
            ("ansible", "noop", lambda: self.ansible("noop", n, rep, site, addresses)),
            *([("baseline", "noop",
                lambda: self.ansible("noop", n, rep, site, addresses, engine="baseline"))]
              if not self.noop_only else []),
        ] if group == "engines" else [
            ("testinfra", "verify-serial", lambda: self.verify(n, rep, site, addresses, 1)),
            ("testinfra", "verify-xdist",
             lambda: self.verify(n, rep, site, addresses, XDIST_WORKERS)),
        ]
        for engine, phase, step in steps:
            if self.fits(engine, phase, n, rep):
                step()

    def fits(self, engine: str, phase: str, n: int | None, rep: int) -> bool:
        """Whether one more run of a phase fits the time budget (the first run always does).

        The estimate is the phase's slowest run so far at this N plus 5 s, and
        :data:`CLEANUP_RESERVE` seconds stay free for removing the hosts. A skipped run is
        counted for the report.
        """
        if rep == 1 or not self.budget:
            return True
        done = [s.seconds for s in self.samples if (s.engine, s.phase, s.n) == (engine, phase, n)]
        needed = max(done, default=0) + 5 + CLEANUP_RESERVE
        if time.monotonic() - self.started + needed <= self.budget:
            return True
        key = f"{engine}/{phase}/{'' if n is None else n}"
        self.skipped[key] = self.skipped.get(key, 0) + 1
        self.log(f"n={n} rep {rep}: {engine} {phase}: skipped, it would overrun the "
                 f"{self.budget / 60:.0f}-minute budget")
        return False
