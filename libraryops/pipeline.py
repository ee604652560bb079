"""The pipelines behind the make targets: validate first, then the engines, then the checks.

``python -m libraryops.pipeline <command> --site SITE [--inventory DIR] [--limit L] [...]``

Commands (each that contacts anything validates the whole site first):

- ``validate``: only that (allowed for documentation sites such as ``example``);
- ``bootstrap``: Ansible ``playbooks/bootstrap.yml`` as root (first contact with new hosts);
- ``converge``: Ansible ``playbooks/site.yml``, then the pyinfra public-PC deploy;
- ``lab``: the main job on the local lab: validate, lab up, bootstrap, converge, Azure apply and
  plan against the ARM stand-in, testinfra, per-host summary;
- ``plan``: read-only preview of everything a merge would change (Ansible ``--check --diff``,
  pyinfra ``--dry``, the Azure plan), summarised per host and resource in
  ``reports/<site>/plan/``; exit 0 no changes, 2 changes, 1 error or unreachable host;
- ``apply``: the ordered rollout (Ansible site.yml, then public PCs canary-first, then Azure),
  honouring the open-hours guard for public PCs; exit 1 when any host failed;
- ``verify``: the testinfra suites in parallel, JUnit XML and an HTML report in ``reports/``.

Every phase prints one line when it starts (with the time since the pipeline began) and one
when it ends (with its own duration). Engine output saved to files is redacted
(:mod:`libraryops.redact`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from libraryops import catchup, clock, hoststate, paths, redact, report, revision
from libraryops.hoststate import HostState, State
from libraryops.inventory import InventoryError, hosts_file, load_site

BIN = Path(sys.executable).parent
#: Exit status of a plan with changes (0: none, 1: error).
CHANGES = 2
#: Ansible exit codes that still produced a recap: 2 = a host failed, 4 = a host unreachable.
ANSIBLE_RECAP_CODES = (0, 2, 4)
#: The public PCs' session script (deploy/idle.py): its ``end-after-warning`` mode.
IDLE_SCRIPT = "/usr/local/sbin/libraryops-idle-logout"
#: Seconds a patron is warned before an urgent update ends the session (the inventory's
#: ``public_pc__urgent_warning_seconds`` wins).
URGENT_WARNING_SECONDS = 300
#: Exit status of a run whose hosts not converged are all pending (off as scheduled or deferred
#: by opening hours: a catch-up run brings them); ``PENDING_OK=1`` makes make exit 0 then.
PENDING = 3


def testinfra_argv(suites: Sequence[str], hosts_yml: Path, junit: Path,
                   workers: int) -> list[str]:
    """The pytest command line of a testinfra run: ``suites`` (paths) against the hosts of
    ``hosts_yml`` (an Ansible inventory file), a JUnit report at ``junit``, with ``workers``
    pytest-xdist processes when more than 1."""
    argv = [str(BIN / "pytest"), *suites, "-p", "no:cacheprovider", "-q",
            f"--ansible-inventory={hosts_yml}", f"--junitxml={junit}",
            "-o", "junit_family=xunit1"]
    if workers > 1:
        argv += ["-n", str(workers)]
    return argv


class PhaseFailed(RuntimeError):
    """A phase's command exited with an unexpected status; the message names the phase."""


class Pipeline:
    """Runs named phases in order against one site, timing and announcing each.

    Args:
        site: the site name (``inventories/<site>``; used for ``reports/<site>``).
        inventory: the site directory; defaults to ``inventories/<site>``.
        limit: an Ansible/pyinfra limit (host or group), or None for all hosts.
        reports: where this run's results go; defaults to ``reports/<site>``.

    Every engine gets ``LIBRARYOPS_COMMIT`` (:func:`libraryops.revision.current`), which the
    ``converged`` role and deploy/record.py record on each host that converges cleanly.

    Raises:
        libraryops.revision.RevisionError: the repository's commit cannot be read.
    """

    def __init__(self, site: str, inventory: Path | None = None, limit: str | None = None,
                 reports: Path | None = None):
        self.site = site
        self.inventory = inventory or paths.site_dir(site)
        self.limit = limit
        self.reports = reports or paths.REPORTS / site
        self.started = time.monotonic()
        self._secrets: set[str] | None = None
        vault = paths.vault_password_file(self.inventory)
        self.commit = revision.current()
        self.env = dict(
            os.environ,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(paths.REPO),
            ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
            LIBRARYOPS_INVENTORY=str(self.inventory),
            LIBRARYOPS_COMMIT=self.commit,
        )
        if vault:
            self.env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(vault.resolve())

    @property
    def secrets(self) -> set[str]:
        """The site's secret values (loaded once, after validation)."""
        if self._secrets is None:
            self._secrets = redact.secret_values(load_site(self.inventory))
        return self._secrets

    def phase(self, name: str, action: Callable[[], None]) -> None:
        """Announce, run and time one phase (exceptions propagate)."""
        print(f"==> {name}  [+{time.monotonic() - self.started:.1f} s]", flush=True)
        began = time.monotonic()
        action()
        print(f"<== {name}: done in {time.monotonic() - began:.1f} s", flush=True)

    def run(self, name: str, argv: Sequence[str], *, ok: Sequence[int] = (0,),
            log: Path | None = None, stdout: Path | None = None, **env: str) -> int:
        """Run one command from the repository root.

        Args:
            name: the phase name for error messages.
            argv: the command.
            ok: exit statuses that are not failures.
            log: also save the command's (merged, redacted) output here; it still streams.
            stdout: send standard output to this file instead (stderr still streams).
            env: extra environment.

        Returns:
            The exit status.

        Raises:
            PhaseFailed: an exit status not in ``ok``.
        """
        env = {**self.env, **env}
        if log is not None:
            proc = subprocess.Popen(argv, cwd=paths.REPO, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            with log.open("w", encoding="utf-8") as saved:
                for line in proc.stdout:
                    line = redact.redact(line, self.secrets)
                    sys.stdout.write(line)
                    saved.write(line)
            returncode = proc.wait()
        elif stdout is not None:
            with stdout.open("w", encoding="utf-8") as out:
                returncode = subprocess.run(argv, cwd=paths.REPO, env=env, stdout=out,
                                            check=False).returncode
        else:
            returncode = subprocess.run(argv, cwd=paths.REPO, env=env, check=False).returncode
        if returncode not in ok:
            raise PhaseFailed(f"{name} failed (exit {returncode})")
        return returncode

    # -- phases -------------------------------------------------------------------------------

    def validate(self) -> None:
        """Validate the whole site (libraryops.validate); nothing is contacted."""
        self.run("validate", [str(BIN / "python"), "-m", "libraryops.validate",
                              str(self.inventory)])

    def lab_up(self) -> None:
        """Bring the lab's hosts up (idempotent; cached image)."""
        self.run("lab-up", [str(BIN / "python"), "-m", "libraryops.lab", "up",
                            "--site-dir", str(self.inventory)])

    def playbook(self, playbook: str, *extra: str, check: bool = False,
                 tolerate_failed_hosts: bool = False) -> int:
        """Run ``playbooks/<playbook>.yml``; its recap goes to ``ansible-<playbook>.json``.

        In check mode (``--check --diff``) the output is also saved (redacted) to
        ``ansible-<playbook>.txt``. In check mode, or with ``tolerate_failed_hosts``, failed or
        unreachable hosts do not stop the pipeline: the summary reports them.
        Returns ansible-playbook's exit status.
        """
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = [str(BIN / "ansible-playbook"), "-i", str(hosts_file(self.inventory)),
                f"playbooks/{playbook}.yml", *extra]
        if check:
            argv += ["--check", "--diff"]
        if self.limit:
            argv += ["--limit", self.limit]
        stats = str(self.reports / f"ansible-{playbook}.json")
        return self.run(f"ansible {playbook}", argv, LIBRARYOPS_ANSIBLE_STATS=stats,
                        ok=ANSIBLE_RECAP_CODES if check or tolerate_failed_hosts else (0,),
                        log=self.reports / f"ansible-{playbook}.txt" if check else None)

    def bootstrap(self) -> None:
        """Ansible bootstrap.yml as root: create the management accounts."""
        self.playbook("bootstrap", "-e", "ansible_user=root")

    def pyinfra(self, hosts: Sequence[str], *, dry: bool = False, name: str = "public_pc") -> int:
        """The pyinfra public-PC deploy on ``hosts``.

        pyinfra's own ``--json`` result goes to ``pyinfra-<name>.json``. When every host fails,
        pyinfra stops ("No hosts remaining") without writing JSON; and a host it never ran on
        (unreachable, or not matched) appears in no operation. Either way the file then records
        those hosts as failed, and the status is 1. Returns pyinfra's exit status otherwise.
        """
        if not hosts:
            print(f"pyinfra {name}: no public PCs in this run")
            return 0
        self.reports.mkdir(parents=True, exist_ok=True)
        output = self.reports / f"pyinfra-{name}.json"
        # -y skips pyinfra's change detection, so a dry run goes without it.
        argv = [str(BIN / "pyinfra"), "--json", "--dry" if dry else "-y", "deploy/inventory.py",
                "deploy/public_pc.py", *(arg for host in hosts for arg in ("--limit", host))]
        status = self.run(f"pyinfra {name}", argv, ok=(0, 1), stdout=output)
        text = output.read_text(encoding="utf-8").strip()
        data = json.loads(text) if text else {"plan": [], "results": {"operations": []}}
        results = data.get("results")
        if dry and text:
            return status
        ran = {h for op in (results or {}).get("operations", [])
               for h in op["success"] + op["no_change"] + op["error"]}
        missing = [h for h in hosts if h not in ran]
        if missing:
            results = data["results"] = results or {"operations": []}
            results["failed_hosts"] = sorted(set(results.get("failed_hosts", [])) | set(missing))
            output.write_text(json.dumps(data), encoding="utf-8")
            print(f"pyinfra {name}: no result for {', '.join(missing)}", file=sys.stderr)
            return 1
        return status

    def public_pcs(self) -> list[str]:
        """The public PCs this run targets: ``public_pcs``, within LIMIT when given."""
        site = load_site(self.inventory)
        selected = set(site.hosts_matching(self.limit))
        return [h for h in site.groups.get("public_pcs", []) if h in selected]

    def verify(self, hosts: Sequence[str] = (), junit: Path | None = None,
               workers: int = 1, suites: Sequence[str] = ("tests/testinfra",)) -> int:
        """The testinfra suites against the site (or only ``hosts``); returns pytest's status."""
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = testinfra_argv(suites, hosts_file(self.inventory),
                              junit or self.reports / "testinfra.xml", workers)
        return self.run("testinfra", argv, ok=(0, 1),
                        LIBRARYOPS_VERIFY_HOSTS=",".join(hosts))

    def azure(self, command: str) -> int:
        """Azure ``apply``/``plan``/``drift`` of the site's azure.yml; returns the exit status
        (plan and drift: 2 = differences). Sites without azure.yml skip it (status 0)."""
        if not (self.inventory / "azure.yml").is_file():
            print(f"azure {command}: {self.inventory}/azure.yml absent, nothing to do")
            return 0
        return self.run(f"azure {command}",
                        [str(BIN / "python"), f"azure/{command}.py", "--site", self.site,
                         "--inventory", str(self.inventory), "--report-dir", str(self.reports)],
                        ok=(0, CHANGES) if command != "apply" else (0,))

    def summary(self, expect_no_changes: bool) -> None:
        """Print the per-host summary; fail on failed checks (or changes, when not expected)."""
        argv = ["summary", "--dir", str(self.reports)]
        if expect_no_changes:
            argv.append("--expect-no-changes")
        if report.main(argv) != 0:
            raise PhaseFailed("summary: see the problems above")

    def clear_reports(self) -> None:
        """Start a run with an empty reports directory, so its summary is this run's alone."""
        shutil.rmtree(self.reports, ignore_errors=True)
        self.reports.mkdir(parents=True)


# -- the composite commands ---------------------------------------------------------------------


def converge_hosts(p: Pipeline, now: dt.datetime,
                   public_pcs: list[str] | None = None) -> dict[str, HostState]:
    """Both engines on the run's hosts, no host blocking another: Ansible's site.yml on every
    host it can reach (a failed or unreachable host stops only itself), then the pyinfra
    public-PC deploy on the public PCs Ansible converged (of ``public_pcs`` when given).

    Returns:
        Each targeted host's state (:mod:`libraryops.hoststate`), as of ``now``.
    """
    site = load_site(p.inventory)
    targets = site.hosts_matching(p.limit)
    p.phase("ansible site", lambda: p.playbook("site", tolerate_failed_hosts=True))
    baseline = hoststate.from_reports(site, targets, p.reports, now)
    pcs = [h for h in (p.public_pcs() if public_pcs is None else public_pcs)
           if baseline.get(h, HostState(h, State.FAILED)).state is State.CONVERGED]
    left_out = [h for h in p.public_pcs() if h not in pcs and h in baseline]
    if left_out:
        print(f"pyinfra public PCs: left out (not converged by Ansible or deferred): "
              f"{', '.join(left_out)}")
    p.phase("pyinfra public PCs", lambda: p.pyinfra(pcs))
    return hoststate.from_reports(site, targets, p.reports, now)


def report_states(p: Pipeline, states: dict[str, HostState]) -> int:
    """Print one line per host not converged (redacted) and return the run's exit status:
    0 every host converged, :data:`PENDING` when the others are only off as scheduled or
    deferred (a catch-up run brings them), 1 when one is unreachable or failed."""
    left = [s for s in states.values() if s.state is not State.CONVERGED]
    for state in sorted(left, key=lambda s: s.host):
        print(f"not converged: {redact.redact(state.line(), p.secrets)}", file=sys.stderr)
    converged = len(states) - len(left)
    print(f"{converged} of {len(states)} hosts converged to {p.commit[:12]}", flush=True)
    if any(s.state not in hoststate.PENDING for s in left):
        return 1
    return PENDING if left else 0


def lab(p: Pipeline, expect_no_changes: bool) -> int:
    """The main job on the local lab (see the module docstring)."""
    p.clear_reports()
    p.phase("validate", p.validate)
    p.phase("lab up", p.lab_up)
    p.phase("ansible bootstrap", p.bootstrap)
    if report_states(p, converge_hosts(p, clock.now())) != 0:
        raise PhaseFailed("converge: a lab host did not converge (see above)")
    p.phase("azure apply (ARM stand-in)", lambda: p.azure("apply"))
    p.phase("azure plan: expect no changes", lambda: _require(p.azure("plan"), "azure plan"))
    p.phase("testinfra", lambda: p.verify())
    p.phase("summary", lambda: p.summary(expect_no_changes))
    return 0


def _require(status: int, what: str) -> None:
    if status != 0:
        raise PhaseFailed(f"{what} exited {status}")


def plan(p: Pipeline) -> int:
    """Read-only preview: Ansible check+diff, pyinfra dry, Azure plan; summary in plan/."""
    p.clear_reports()
    p.phase("validate", p.validate)
    p.phase("ansible site --check --diff", lambda: p.playbook("site", check=True))
    p.phase("pyinfra public PCs --dry", lambda: p.pyinfra(p.public_pcs(), dry=True))
    azure_status: list[int] = []
    p.phase("azure plan", lambda: azure_status.append(p.azure("plan")))
    rows = report.summarize(p.reports)
    for host in p.public_pcs():  # pyinfra's dry plan lists only hosts with changes
        rows.setdefault(host, report.HostRow()).changes.setdefault("pyinfra", 0)
    azure_items = _azure_items(p.reports / "azure-plan.json")
    site, now = load_site(p.inventory), clock.now()
    urgent = revision.urgent_reason(p.commit)
    when = {h: catchup.when(site, h, now, urgent) for h, r in sorted(rows.items())
            if sum(r.changes.values()) or r.unreachable}
    text = plan_summary(p.site, rows, azure_items, when)
    (p.reports / "plan-summary.md").write_text(text, encoding="utf-8")
    (p.reports / "plan.json").write_text(json.dumps({
        "site": p.site,
        "hosts": {h: vars(r) for h, r in sorted(rows.items())},
        "when": when,
        "azure": azure_items,
    }, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(text)
    if any(r.unreachable or r.engine_failures for r in rows.values()):
        print("plan: incomplete: a host failed or was unreachable (exit 1)", file=sys.stderr)
        return 1
    # Conditional operations (restart if a file changed) change nothing on their own.
    changed = any(sum(r.changes.values()) for r in rows.values())
    if changed or CHANGES in azure_status:
        print(f"plan: changes (exit {CHANGES}); details in {p.reports}")
        return CHANGES
    print("plan: no changes (exit 0)")
    return 0


def _azure_items(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["items"]


def plan_summary(site: str, rows: dict[str, report.HostRow], azure_items: list[dict],
                 when: dict[str, str] | None = None) -> str:
    """The plan as Markdown for Town IT (and a CI job summary): hosts, when each host with a
    change gets it, then Azure resources.

    Args:
        site: the site name.
        rows: per-host results of the check/dry runs (:func:`libraryops.report.summarize`).
        azure_items: the Azure plan's items (``azure-plan.json``), possibly empty.
        when: host -> when it gets the change (:func:`libraryops.catchup.when`).
    """
    lines = [f"# Plan for site `{site}`", "", "## Hosts", "", "```",
             report.format_table(rows, verb="would change") if rows else "(no hosts)", "```"]
    unreachable = sorted(h for h, r in rows.items() if r.unreachable)
    if unreachable:
        lines += ["", f"**Unreachable, not planned:** {', '.join(unreachable)}"]
    if when:
        lines += ["", "## When each host gets the change", ""]
        lines += [f"- {host}: {'not planned (unreachable); ' if rows[host].unreachable else ''}"
                  f"{text}" for host, text in sorted(when.items())]
    changes = [i for i in azure_items if i.get("action") not in (None, "no-change")]
    lines += ["", "## Azure", ""]
    if not azure_items:
        lines.append("(no azure.yml)")
    elif not changes:
        lines.append(f"No changes ({len(azure_items)} resources).")
    for item in changes:
        lines.append(f"- **{item['action']}** {item['type']} `{item['resource']}`")
    return "\n".join(lines) + "\n"


def end_sessions_for_urgent(p: Pipeline, site, hosts: list[str], reason: str) -> None:
    """On each public PC of ``hosts`` (of open branches), warn the patron on screen for
    ``public_pc__urgent_warning_seconds`` and end the session, which resets it as an idle logout
    does (``libraryops-idle-logout end-after-warning``, deploy/idle.py), all PCs at once. A PC
    without the script (never deployed) has no patron session to end."""
    by_seconds: dict[int, list[str]] = {}
    for host in hosts:
        seconds = int(site.hosts[host].get("public_pc__urgent_warning_seconds",
                                           URGENT_WARNING_SECONDS))
        by_seconds.setdefault(seconds, []).append(host)
    for seconds, group in sorted(by_seconds.items()):
        command = shlex.join([IDLE_SCRIPT, "end-after-warning", str(seconds), reason[:100]])
        p.run("urgent: warn and end sessions",
              [str(BIN / "ansible"), "-i", str(hosts_file(p.inventory)), ",".join(group),
               "-m", "ansible.builtin.shell",
               "-a", f"[ -x {IDLE_SCRIPT} ] || exit 0; {command}"], ok=(0, 2, 4))


def public_pc_rollout(p: Pipeline, site, states: dict[str, HostState], now: dt.datetime,
                      force: bool, batch_size: int) -> dict[str, HostState]:
    """The public PCs Ansible converged, deployed by pyinfra as ``make apply`` does: those of a
    branch open at ``now`` are deferred unless ``force`` or the change is urgent (then each
    patron is warned and the session reset first); one canary per branch is deployed and
    verified by its testinfra suite; if a canary fails, no other public PC is touched;
    otherwise the rest go in batches of ``batch_size``.

    Returns:
        What this step decided for the PCs it did not run (deferred, not attempted); the
        deployed PCs' states come from the reports (:func:`libraryops.hoststate.from_reports`).
    """
    decided: dict[str, HostState] = {}
    pcs = [h for h in p.public_pcs() if states.get(h, HostState(h, State.FAILED)).state
           is State.CONVERGED]
    open_now = {h: why for h in pcs if (why := hoststate.open_branch(site, h, now))}
    urgent = revision.urgent_reason(p.commit) if open_now and not force else None
    if urgent:
        p.phase(f"urgent ({urgent}): warn the patrons, end their sessions",
                lambda: end_sessions_for_urgent(p, site, list(open_now), urgent))
    elif not force:
        decided |= {h: HostState(h, State.DEFERRED, f"{why}; FORCE=1 or an Urgent: trailer "
                                                    "overrides")
                    for h, why in open_now.items()}
    allowed = [h for h in pcs if h not in decided]
    canaries = [next(h for h in members if h in allowed)
                for _, members in sorted(site.branches.items()) if set(members) & set(allowed)]
    rest = [h for h in allowed if h not in canaries]
    if canaries:
        deployed: list[int] = []
        p.phase(f"public PCs: canary {', '.join(canaries)}",
                lambda: deployed.append(p.pyinfra(canaries, name="canary")))
        verified: list[int] = []
        p.phase("public PCs: verify the canary",
                lambda: verified.append(p.verify(canaries, p.reports / "canary.xml",
                                                 suites=["tests/testinfra/test_public_pc.py"])))
        canary_rows = report.summarize(p.reports, pyinfra=["canary"], junit="canary.xml")
        if deployed[0] != 0 or verified[0] != 0 or report.problems(canary_rows):
            decided |= {h: HostState(h, State.FAILED, "not attempted: a canary failed "
                                                      f"({', '.join(canaries)})") for h in rest}
            decided |= {h: HostState(h, State.FAILED, "canary: deploy or verification failed")
                        for h in canaries if canary_rows.get(h) and report.problems(
                            {h: canary_rows[h]})}
            rest = []
    for number, start in enumerate(range(0, len(rest), batch_size), 1):
        batch = rest[start:start + batch_size]
        p.phase(f"public PCs: batch {number} ({len(batch)} hosts)",
                lambda batch=batch, number=number: p.pyinfra(batch, name=f"batch-{number}"))
    return decided


def apply(p: Pipeline, batch_size: int, force: bool, now: dt.datetime) -> int:
    """The ordered rollout (see the module docstring): Ansible's site.yml on every host
    (baseline, staff machines, wireless; a failing or unreachable host does not stop the
    others), then the public PCs (:func:`public_pc_rollout`), then Azure. Returns
    :func:`report_states`' status (a failed canary counts as failed)."""
    p.clear_reports()
    p.phase("validate", p.validate)
    p.phase("ansible site (baseline, staff, wireless)",
            lambda: p.playbook("site", tolerate_failed_hosts=True))
    site = load_site(p.inventory)
    targets = site.hosts_matching(p.limit)
    decided = public_pc_rollout(p, site, hoststate.from_reports(site, targets, p.reports, now),
                                now, force, batch_size)
    p.phase("azure apply", lambda: p.azure("apply"))
    print(report.format_table(report.summarize(p.reports, junit=None)))
    return report_states(p, hoststate.from_reports(site, targets, p.reports, now) | decided)


def catch_up(p: Pipeline, now: dt.datetime, force: bool = False) -> int:
    """``make catch-up`` (:mod:`libraryops.catchup`): read what every host runs, then converge
    exactly the reachable hosts that are behind the current commit through both engines, as
    ``make apply`` rolls out public PCs (deferred while their branch is open unless the change
    is urgent). Returns :func:`report_states`' status."""
    p.clear_reports()
    p.phase("validate", p.validate)
    site = load_site(p.inventory)
    targets = site.hosts_matching(p.limit)
    found: dict[str, catchup.Record] = {}
    p.phase("read what each host runs",
            lambda: found.update(catchup.records(site, targets, str(BIN / "ansible"), p.env)))
    states: dict[str, HostState] = {}
    behind: list[str] = []
    for host in targets:
        record = found[host]
        runs = record.runs(catchup.engines_of(site, host))
        if not record.reachable:
            states[host] = hoststate.not_reached(site, host, now, record.why)
        elif runs == p.commit:
            states[host] = HostState(host, State.CONVERGED)
        else:
            behind.append(host)
            print(f"catch-up: {host} runs {(runs or 'no recorded commit')[:12]}, "
                  f"behind {p.commit[:12]}")
    if behind:
        sub = Pipeline(p.site, p.inventory, ",".join(behind), p.reports)
        sub.phase("ansible site (the hosts behind)",
                  lambda: sub.playbook("site", tolerate_failed_hosts=True))
        baseline = hoststate.from_reports(site, behind, p.reports, now)
        decided = public_pc_rollout(sub, site, baseline, now, force, batch_size=10)
        states |= hoststate.from_reports(site, behind, p.reports, now) | decided
    else:
        print(f"catch-up: every reachable host runs {p.commit[:12]}")
    return report_states(p, states)


def verify(p: Pipeline, workers: int) -> int:
    """The testinfra suites in parallel; JUnit and HTML in reports/verify-<site>-<time>.*."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    junit = paths.REPORTS / f"verify-{p.site}-{stamp}.xml"
    html = junit.with_suffix(".html")
    status: list[int] = []
    p.phase("testinfra", lambda: status.append(p.verify(junit=junit, workers=workers)))
    site = load_site(p.inventory)
    html.write_text(redact.redact(report.verify_html(p.site, site, junit), p.secrets),
                    encoding="utf-8")
    print(f"verify: {junit.relative_to(paths.REPO)} and {html.relative_to(paths.REPO)}")
    branches, _ = report.verify_results(site, junit)
    unreached = [h for b in branches for h in b["not_reached"]]
    if unreached:
        print(f"verify: not reached (nothing could connect; not verified): {', '.join(unreached)}",
              file=sys.stderr)
    return 0 if status[0] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.pipeline")
    parser.add_argument("command", choices=["validate", "bootstrap", "converge", "lab", "plan",
                                            "apply", "catch-up", "verify"])
    parser.add_argument("--site", default="lab")
    parser.add_argument("--inventory", type=Path, help="site directory (default inventories/SITE)")
    parser.add_argument("--limit", default=None, help="a host or group name")
    parser.add_argument("--expect-no-changes", action="store_true",
                        help="lab: fail the summary if any engine changed anything")
    parser.add_argument("--force", action="store_true",
                        help="apply: public PCs even while their branch is open")
    parser.add_argument("--batch", type=int, default=10, help="apply: public PCs per batch")
    parser.add_argument("--workers", type=int, default=4, help="verify: parallel workers")
    parser.add_argument("--now", default=None,
                        help="apply: the instant the open-hours guard judges (ISO 8601 with "
                             "offset; default now)")
    args = parser.parse_args(argv)
    try:
        if args.command != "validate":
            paths.refuse_documentation_site(args.site, args.inventory)
        if args.command == "lab" and args.site != "lab":
            raise paths.SiteError(f"SITE={args.site}: `make lab` runs only the local lab site")
        p = Pipeline(args.site, args.inventory, args.limit or None,
                     reports=paths.REPORTS / args.site / "plan" if args.command == "plan"
                     else None)
        if args.command == "validate":
            p.phase("validate", p.validate)
        elif args.command == "bootstrap":
            p.phase("validate", p.validate)
            p.phase("ansible bootstrap", p.bootstrap)
        elif args.command == "converge":
            p.clear_reports()
            p.phase("validate", p.validate)
            return report_states(p, converge_hosts(p, clock.now()))
        elif args.command == "catch-up":
            return catch_up(p, clock.now(args.now), args.force)
        elif args.command == "lab":
            return lab(p, args.expect_no_changes)
        elif args.command == "plan":
            return plan(p)
        elif args.command == "apply":
            now = clock.now(args.now)
            return apply(p, args.batch, args.force, now)
        elif args.command == "verify":
            return verify(p, args.workers)
    except (PhaseFailed, paths.SiteError, InventoryError, ValueError,
            revision.RevisionError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
