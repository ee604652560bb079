"""The pipelines behind the make targets: validate first, then the engines, then the checks.

``python -m libraryops.pipeline <command> --site SITE [--inventory DIR] [--limit L] [...]``

Commands (each that contacts anything validates the whole site first):

- ``validate``: only that (allowed for documentation sites such as ``example``);
- ``bootstrap``: Ansible ``playbooks/bootstrap.yml`` as root (first contact with new hosts);
- ``converge``: Ansible ``playbooks/site.yml``, then the pyinfra public-PC deploy; with
  ``--tags`` only the roles named (and the firewall with a role that declares ports; the tag
  ``public_pc`` for the deploy), and no commit is recorded;
- ``lab``: the main job on the local lab: validate, lab up, bootstrap, converge, Azure apply and
  plan against the ARM stand-in, testinfra, per-host summary;
- ``plan``: read-only preview of everything a merge would change (Ansible ``--check --diff``,
  pyinfra ``--dry``, the Azure plan), summarised per host and resource in
  ``reports/<site>/plan/``; exit 0 no changes, 2 changes, 1 error or unreachable host;
- ``apply``: the ordered rollout (Ansible site.yml, then public PCs canary-first, then Azure),
  honouring the open-hours guard for public PCs; exit 1 when any host failed;
- ``verify``: the testinfra suites in parallel, JUnit XML and an HTML report in ``reports/``;
- ``assets``: read-only facts from every reachable host into the site's asset register
  (``inventories/<site>/assets/``), then the capital planning report in
  ``reports/<site>/assets/`` (:mod:`libraryops.asset_report`).

Every phase prints one line when it starts (with the time since the pipeline began) and one
when it ends (with its own duration). Engine output saved to files is redacted
(:mod:`libraryops.redact`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from deploy.defaults import DEFAULTS
from libraryops import (
    asset_report,
    catchup,
    clock,
    hoststate,
    paths,
    redact,
    report,
    revision,
)
from libraryops.engines import BIN, CHANGES, PUBLIC_PC_TAG, PhaseFailed, Pipeline, converge_tags
from libraryops.hoststate import HostState, State
from libraryops.inventory import InventoryError, hosts_file, load_site

#: The public PCs' session script (deploy/idle.py): its ``end-after-warning`` mode.
IDLE_SCRIPT = "/usr/local/sbin/libraryops-idle-logout"
#: Exit status of a run whose hosts not converged are all pending (off as scheduled or deferred
#: by opening hours: a catch-up run brings them); ``PENDING_OK=1`` makes make exit 0 then.
PENDING = 3


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
    if not p.tags or set(p.tags) - {PUBLIC_PC_TAG}:
        p.phase("ansible site", lambda: p.playbook("site", tolerate_failed_hosts=True))
    baseline = hoststate.from_reports(site, targets, p.reports, now)
    pcs = [h for h in (p.public_pcs() if public_pcs is None else public_pcs)
           if baseline.get(h, HostState(h, State.FAILED)).state is State.CONVERGED]
    left_out = [h for h in p.public_pcs() if h not in pcs and h in baseline]
    if left_out:
        print(f"pyinfra public PCs: left out (not converged by Ansible or deferred): "
              f"{', '.join(left_out)}")
    if not p.tags or PUBLIC_PC_TAG in p.tags:
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
    if p.tags:
        print(f"{converged} of {len(states)} hosts ran {', '.join(p.tags)} from "
              f"{p.commit[:12]} (some roles: the commit is not recorded)", flush=True)
    else:
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
                                           DEFAULTS["public_pc__urgent_warning_seconds"]))
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


def collect_assets(p: Pipeline) -> int:
    """``make assets``: playbooks/assets.yml (read-only) on the reachable hosts, then the register
    merge and the report (:mod:`libraryops.asset_report`). A host that is off keeps its record."""
    raw = p.reports / "assets-raw"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    p.phase("ansible assets", lambda: p.playbook(
        "assets", "-e", f"assets_raw_dir={raw}", tolerate_failed_hosts=True))
    return asset_report.main(["--site-dir", str(p.inventory), "--raw-dir", str(raw),
                              "--report-dir", str(p.reports / "assets")])


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.pipeline")
    parser.add_argument("command", choices=["validate", "bootstrap", "converge", "lab", "plan",
                                            "apply", "catch-up", "verify", "assets"])
    parser.add_argument("--site", default="lab")
    parser.add_argument("--inventory", type=Path, help="site directory (default inventories/SITE)")
    parser.add_argument("--limit", default=None, help="a host or group name")
    parser.add_argument("--tags", default=None,
                        help="converge: only these roles (comma-separated site.yml role tags, "
                             f"{PUBLIC_PC_TAG} for the pyinfra deploy)")
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
        if args.tags is not None and args.command != "converge":
            raise ValueError(f"TAGS applies to `make converge` only, not {args.command}: "
                             "the others roll out or check everything")
        p = Pipeline(args.site, args.inventory, args.limit or None,
                     reports=paths.REPORTS / args.site / "plan" if args.command == "plan"
                     else None,
                     tags=converge_tags(args.tags) if args.tags is not None else ())
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
        elif args.command == "assets":
            p.phase("validate", p.validate)
            return collect_assets(p)
    except (PhaseFailed, paths.SiteError, InventoryError, ValueError,
            revision.RevisionError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
