"""The measured runs: the SSH floor, each engine's converge, the testinfra verify, the Azure plan.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import yaml

from libraryops import report
from libraryops.cloud import spec as azure_spec
from libraryops.cloud import standin
from libraryops.engines import BIN, testinfra_argv
from tools.bench.settings import (
    AZURE_RESOURCES,
    PLAYBOOKS,
    SUITES,
    Sample,
)
from tools.bench.sites import (
    _REQUEST_LINE,
    azure_document,
)


class MeasuredRuns:
    """The measured runs of :class:`tools.bench.runner.Bench` (a mixin: the attributes are the
    bench's)."""

    def floor(self, n: int, rep: int, hosts: dict[str, str], master: bool) -> Sample:
        """One trivial command on every host in parallel (see the module docstring)."""
        phase = "floor-cm-on" if master else "floor-cm-off"
        control = self.state / "cm"
        control.mkdir(exist_ok=True)
        options = self.ssh_options() + (
            ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}/%C",
             "-o", "ControlPersist=300"] if master else
            ["-o", "ControlMaster=no", "-o", "ControlPath=none"])
        script = "pids=''\n" + "".join(
            f"{shlex.join(['ssh', *options, f'{self.user}@{a}', 'true'])} & pids=\"$pids $!\"\n"
            for a in hosts.values()) + "rc=0\nfor p in $pids; do wait $p || rc=1; done\nexit $rc\n"
        self.close_masters(hosts.values())
        out = self.run_dir(f"{phase}-n{n}-r{rep}")
        if master:  # open the masters first (not measured)
            self.execute(["sh", "-c", script], dict(os.environ), out, "open-masters.log")
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(["sh", "-c", script], dict(os.environ), out)
        self.close_masters(hosts.values())
        return self.record(Sample("ssh", phase, n, rep, seconds, status, ok=status == 0,
                                  peak_rss_mib=peak, load=load,
                                  note="" if status == 0 else "an ssh command failed"))

    def pyinfra(self, phase: str, n: int, rep: int, site: Path, addresses: Iterable[str]) -> Sample:
        """The public-PC deploy, run as the pipeline runs it (``Pipeline.pyinfra``)."""
        self.close_masters(addresses)
        out = self.run_dir(f"pyinfra-{phase}-{site.name}-r{rep}")
        load = os.getloadavg()[0]
        argv = [str(BIN / "pyinfra"), "--json", "-y", "deploy/inventory.py",
                "deploy/public_pc.py", "--limit", "public_pcs"]
        seconds, status, peak = self.execute(argv, self.env(site), out, "pyinfra-public_pc.json")
        return self.record(self._engine_sample("pyinfra", phase, n, rep, seconds, status, peak,
                                               load, out))

    def ansible(self, phase: str, n: int, rep: int, site: Path, addresses: Iterable[str],
                engine: str = "ansible") -> Sample:
        """An Ansible playbook of :data:`PLAYBOOKS`, recap via libraryops_stats: ``ansible``,
        the public-PC equivalent; ``baseline``, ``playbooks/site.yml`` (every host's roles)."""
        playbook = PLAYBOOKS[engine]
        self.close_masters(addresses)
        out = self.run_dir(f"{engine}-{phase}-{site.name}-r{rep}")
        control = self.state / "cp" / str(self._sequence)  # short: it goes into socket paths
        control.mkdir(parents=True)
        env = self.env(site, LIBRARYOPS_ANSIBLE_STATS=str(out / f"ansible-{engine}.json"),
                       ANSIBLE_SSH_CONTROL_PATH_DIR=str(control))
        load = os.getloadavg()[0]
        argv = [str(BIN / "ansible-playbook"), "-i", str(site / "hosts.yml"), playbook]
        seconds, status, peak = self.execute(argv, env, out)
        for socket_path in control.iterdir():  # its masters would outlive the run by 60 s
            subprocess.run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "bench"],
                           capture_output=True, timeout=15, check=False)
        return self.record(self._engine_sample(engine, phase, n, rep, seconds, status, peak,
                                               load, out))

    def _engine_sample(self, engine: str, phase: str, n: int, rep: int, seconds: float,
                       status: int, peak: float, load: float, out: Path) -> Sample:
        try:
            rows = report.summarize(out, junit=None)
        except (OSError, ValueError, KeyError) as exc:
            rows, note = {}, f"no readable result ({exc})"
        else:
            note = ""
        counted = "pyinfra" if engine == "pyinfra" else "ansible"  # the report's engine names
        changes = sum(r.changes.get(counted, 0) for r in rows.values())
        failures = sum(r.engine_failures + r.unreachable for r in rows.values())
        if status != 0 or failures:
            note = note or f"exit {status}, {failures} failed operations or unreachable hosts"
        elif len(rows) != n:
            note = f"results for {len(rows)} hosts, expected {n}"
        elif phase == "noop" and changes:
            note = f"not a no-op: {changes} changes (see {out})"
        elif phase == "cold" and not changes:
            note = "a cold converge that changed nothing: the hosts were not fresh"
        return Sample(engine, phase, n, rep, seconds, status, ok=not note, peak_rss_mib=peak,
                      changes=changes, load=load, note=note)

    def verify(self, n: int, rep: int, site: Path, addresses: Iterable[str], workers: int,
               phase: str | None = None) -> Sample:
        """``make verify``'s testinfra run of the public-PC suites (serial or ``-n workers``)."""
        phase = phase or ("verify-xdist" if workers > 1 else "verify-serial")
        self.close_masters(addresses)
        out = self.run_dir(f"{phase}-{site.name}-r{rep}")
        argv = testinfra_argv(SUITES, site / "hosts.yml", out / "testinfra.xml", workers)
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(argv, self.env(site), out)
        junit = out / "testinfra.xml"
        rows = report.summarize(out, pyinfra=[], ansible=False) if junit.is_file() else {}
        passed = sum(r.passed for r in rows.values())
        failed = sum(r.failed for r in rows.values())
        # The run is measured when pytest ran the suites; failed checks are the suites' news,
        # reported as a note (a timing is still a timing), except for the Ansible proof.
        ok = status in (0, 1) and passed > 0
        note = "" if ok else f"pytest exit {status}, {passed} passed (see {out})"
        if ok and failed:
            names = [f"{case.get('name')}" for case in ET.parse(junit).getroot().iter("testcase")
                     if case.find("failure") is not None or case.find("error") is not None]
            note = f"{failed} check(s) failed: {', '.join(names)}"
            if phase != "proof":
                self.notes.append(f"testinfra {phase} n={n} rep {rep}: {note}")
        return self.record(Sample("testinfra", phase, n, rep, seconds, status, ok=ok,
                                  peak_rss_mib=peak, passed=passed, failed=failed, load=load,
                                  note=note))

    def azure_setup(self) -> None:
        """Write a generated 50-resource spec, start a private stand-in, apply it once."""
        site = self.state / "azure" / "bench-azure"
        site.mkdir(parents=True)
        (site / "azure.yml").write_text(yaml.safe_dump(azure_document(), sort_keys=False))
        azure_spec.load(site)  # the generator must make a valid spec
        standin.start(self.standin_dir)
        self.azure_site = site
        self.azure_run("apply", 1)

    def azure_plan(self, rep: int) -> None:
        """One plan of the applied spec (it must show no change), within the time budget."""
        if self.fits("azure", "plan", None, rep):
            self.azure_run("plan", rep)

    def azure_run(self, phase: str, rep: int) -> Sample:
        """``python -m libraryops.cloud <phase>`` against the private stand-in, with the number
        of HTTP requests it answered (the stand-in logs one line per request; its
        ``/_standin/stats`` counter leaves out the long-running-operation polls)."""
        log = self.standin_dir / "standin.log"

        def requests() -> int:
            text = log.read_text(errors="replace") if log.is_file() else ""
            return len(_REQUEST_LINE.findall(text))

        out = self.run_dir(f"azure-{phase}-r{rep}")
        argv = [str(BIN / "python"), "-m", "libraryops.cloud", phase, "--site",
                self.azure_site.name, "--inventory", str(self.azure_site),
                "--standin-dir", str(self.standin_dir), "--auth", "lab", "--report-dir", str(out)]
        before = requests()
        load = os.getloadavg()[0]
        seconds, status, peak = self.execute(argv, self.env(self.sweep), out)
        count = requests() - before
        note = "" if status == 0 else f"exit {status} (see {out})"
        if phase == "plan" and not note:
            items = json.loads((out / "azure-plan.json").read_text())["items"]
            if len(items) != AZURE_RESOURCES:
                note = f"{len(items)} plan items, expected {AZURE_RESOURCES}"
        return self.record(Sample("azure", phase, None, rep, seconds, status, ok=not note,
                                  peak_rss_mib=peak, requests=count, load=load, note=note))
