"""Catch-up: every host that missed a rollout gets it unattended, at its next closed-but-on moment.

A host misses a rollout when it was off, unreachable or (a public PC of an open branch)
deferred when the change was applied. Each engine records on the host the commit it last
converged it from (role ``converged``, deploy/record.py); :func:`records` reads them from every
reachable host in one Ansible ad-hoc run, and ``make catch-up`` (:func:`libraryops.pipeline.
catch_up`) converges exactly the hosts that are behind the current commit, through the same two
engines and the same no-host-blocks-another converge as ``make converge``.

**When.** Catch-up runs are scheduled from the hours model, never by a person: on the library's
runner a systemd timer (:func:`runner_units`, ``make catch-up-timer``) fires a few minutes after
each branch's last closing and a few minutes after each wake, in the branch's own time zone
(the PCs are on and the building is closed); ``.github/workflows/catch-up.yml`` carries the
same moments as UTC cron lines (:mod:`libraryops.cron`). A run at any moment is safe: public PCs
of branches that are open then are deferred, and PCs that are off are off as scheduled.

**Urgent changes.** A commit with the trailer ``Urgent: <reason>`` (:mod:`libraryops.revision`)
is not deferred: on each public PC of an open branch the patron is warned on screen for
``public_pc__urgent_warning_seconds`` and the session is then ended, which resets it as an idle
logout does (LightDM's session-cleanup), before the PC is converged.

Why the controller pushes instead of each PC pulling (``ansible-pull``, pyinfra ``@local``):
``docs/catch-up.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from libraryops import hoststate, paths
from libraryops.hours import BranchHours
from libraryops.hours_table import branch_hours, instant_text
from libraryops.inventory import SiteInventory, hosts_file, site_cli

#: Where the engines record what a host runs (role converged, deploy/record.py).
RECORD_DIR = "/var/lib/libraryops/converged"
#: The engines that manage each function group (public PCs: the baseline, then the kiosk).
ENGINES = {"public_pcs": ("ansible", "pyinfra")}
DEFAULT_ENGINES = ("ansible",)
#: Minutes after the last closing, and after the wake, at which the runner's timer fires.
AFTER_CLOSING_MINUTES = 5
AFTER_WAKE_MINUTES = 10
#: The runner's units (``make catch-up-timer``).
UNIT = "libraryops-catch-up"


@dataclass(frozen=True)
class Record:
    """What a reachable host says it runs.

    Attributes:
        commits: engine -> the commit it last converged the host from ("" when it never did).
        reachable: False when the read could not connect (``why`` says how).
        why: the connection error, for unreachable hosts.
    """

    commits: Mapping[str, str]
    reachable: bool = True
    why: str = ""

    def runs(self, engines: Iterable[str]) -> str | None:
        """The commit every engine of ``engines`` recorded, or None when they differ or one
        never converged the host."""
        found = {self.commits.get(engine, "") for engine in engines}
        return found.pop() if len(found) == 1 and "" not in found else None


def engines_of(site: SiteInventory, host: str) -> tuple[str, ...]:
    """The engines that manage ``host`` (:data:`ENGINES`)."""
    return next((engines for group, engines in ENGINES.items()
                 if host in site.groups.get(group, [])), DEFAULT_ENGINES)


def read_command() -> str:
    """The shell command that prints ``<engine> <json record>`` for each record on a host."""
    return (f"for f in {RECORD_DIR}/*.json; do [ -f \"$f\" ] && printf '%s %s\\n' "
            "\"$(basename \"$f\" .json)\" \"$(tr -d '\\n' < \"$f\")\"; done; true")


def parse_records(output: str) -> dict[str, str]:
    """``{engine: commit}`` from :func:`read_command`'s output (unreadable lines are skipped)."""
    commits = {}
    for line in output.splitlines():
        engine, _, text = line.partition(" ")
        try:
            commit = json.loads(text).get("commit", "")
        except (ValueError, AttributeError):
            continue
        if isinstance(commit, str):
            commits[engine] = commit
    return commits


def records(site: SiteInventory, hosts: list[str], ansible: str,
            env: Mapping[str, str]) -> dict[str, Record]:
    """Every host's :class:`Record`, read in one ``ansible`` ad-hoc run (JSON output, the
    site's own connection settings and callbacks; nothing is changed).

    Args:
        site: the site.
        hosts: the hosts to read.
        ansible: the ``ansible`` program (the venv's).
        env: the pipeline's environment (ANSIBLE_CONFIG, vault password file, PATH).

    Raises:
        RuntimeError: ansible's output is not the JSON it was asked for.
    """
    if not hosts:
        return {}
    proc = subprocess.run(
        [ansible, "-i", str(hosts_file(site.path)), ",".join(hosts),
         "-m", "ansible.builtin.shell", "-a", read_command()],
        cwd=paths.REPO, capture_output=True, text=True, check=False,
        env={**env, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
             "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"})
    try:
        # The JSON document first; what aggregate callbacks print after it (profile_tasks'
        # summary, enabled in ansible.cfg) is not part of it.
        plays = json.JSONDecoder().raw_decode(proc.stdout.lstrip())[0]["plays"]
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"reading the records failed (ansible exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-300:]}") from None
    results = {host: result for play in plays for task in play["tasks"]
               for host, result in task["hosts"].items()}
    found = {}
    for host in hosts:
        result = results.get(host, {"unreachable": True, "msg": "no answer"})
        if result.get("unreachable") or result.get("failed"):
            why = str(result.get("msg", "")).strip().splitlines()
            found[host] = Record({}, reachable=False, why=why[0][:300] if why else "")
        else:
            found[host] = Record(parse_records(result.get("stdout", "")))
    return found


def runner_calendar(branches: Iterable[BranchHours]) -> list[str]:
    """The runner timer's ``OnCalendar=`` expressions: :data:`AFTER_CLOSING_MINUTES` after each
    branch's last closing and :data:`AFTER_WAKE_MINUTES` after each wake, on every opening
    weekday and closure date with modified hours, in the branch's zone (``man systemd.time``).
    Rendered by the hours model itself (its patch-start and wake timers, moved by these
    minutes), so closures, early closings and days past midnight follow the one model."""
    found: list[str] = []
    for hours in branches:
        if hours.always_open or hours.branch__patch_window_start is not None:
            continue  # no closing to follow: the declared patch window is when it updates
        moved = hours.model_copy(update={
            "branch__patch_delay_minutes": AFTER_CLOSING_MINUTES,
            "branch__wake_lead_minutes": hours.branch__wake_lead_minutes - AFTER_WAKE_MINUTES})
        for timer in moved.timer_plan()["timers"]:
            if timer["event"] in ("patch_start", "wake"):
                found += [e for e in timer["on_calendar"] if e not in found]
    return found


def runner_units(site_dir: Path, branches: Iterable[BranchHours]) -> dict[str, str]:
    """The runner's ``libraryops-catch-up.service`` and ``.timer`` (file name -> text): the
    service brings this clone up to main (``git pull --ff-only``) and runs ``make catch-up
    SITE=<site> PENDING_OK=1`` in it (the vault password and management key as the runner's
    environment points at them); the timer fires at :func:`runner_calendar`,
    ``Persistent=false`` (a run missed while the runner was down waits for the next moment)."""
    calendar = "".join(f"OnCalendar={expression}\n" for expression in runner_calendar(branches))
    site = shlex.quote(site_dir.name)
    return {
        f"{UNIT}.service": (
            "[Unit]\nDescription=libraryops: catch-up run (hosts behind the current commit)\n"
            f"Documentation=file://{paths.REPO}/docs/catch-up.md\n"
            "After=network-online.target\nWants=network-online.target\n\n"
            "[Service]\nType=oneshot\n"
            f"WorkingDirectory={paths.REPO}\n"
            "# This clone follows main (a failed pull runs what is checked out).\n"
            f"ExecStartPre=-/usr/bin/git -C {paths.REPO} pull --ff-only --quiet\n"
            f"ExecStart=/usr/bin/make catch-up SITE={site} PENDING_OK=1\n"),
        f"{UNIT}.timer": (
            "[Unit]\nDescription=libraryops: catch-up after each closing and wake "
            "(from the hours model)\n\n"
            f"[Timer]\n{calendar}AccuracySec=1min\nPersistent=false\n\n"
            "[Install]\nWantedBy=timers.target\n"),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m libraryops.catchup units --site-dir DIR [--install]``: print the runner's
    units; with ``--install`` (root, on a machine where systemd is PID 1) write them to
    /etc/systemd/system and enable the timer. Returns 0, or 1 with a one-line reason."""
    args, site = site_cli(argv, "libraryops.catchup", ["units"], label="catch-up: ",
                          flags={"--install": "install and enable them"})
    if site is None:
        return 1
    found = branch_hours(site)
    if None in found.values():
        print("catch-up: a branch's hours do not validate: run make validate", file=sys.stderr)
        return 1
    units = runner_units(args.site_dir, [h for h in found.values() if h])
    if not args.install:
        for name, text in units.items():
            print(f"# {name}\n{text}")
        return 0
    if not Path("/run/systemd/system").is_dir() or os.geteuid() != 0:
        print("catch-up: --install needs root on a machine where systemd is PID 1 (else use "
              ".github/workflows/catch-up.yml)", file=sys.stderr)
        return 1
    for name, text in units.items():
        Path("/etc/systemd/system", name).write_text(text, encoding="utf-8")
    for command in (["daemon-reload"], ["enable", "--now", f"{UNIT}.timer"]):
        subprocess.run(["systemctl", *command], check=True)
    print(f"catch-up: {UNIT}.timer enabled ({len(runner_calendar(found.values()))} calendar "
          "expressions)")
    return 0


def when(site: SiteInventory, host: str, at: dt.datetime, urgent: str | None = None) -> str:
    """When ``host`` gets a change merged at ``at`` (``make plan``): ``now`` (a machine that is
    always on, or a public PC of a closed branch whose PCs are on), ``now, after warning the
    patron`` (an urgent change), ``at closing: <instant>`` (the branch is open: the catch-up run
    after its closing) or ``at its next wake: <instant>`` (the PCs are off), in the branch's zone.
    """
    opened = hoststate.open_branch(site, host, at)
    if opened:
        if urgent:
            return f"now, after warning the patron (urgent: {urgent})"
        hours = hoststate.branch_hours_of(site, host)
        closing = hours.next_closing(at) if hours else None
        if not closing:
            return "deferred: the branch never closes"
        return f"at closing: {instant_text(closing + _minutes(AFTER_CLOSING_MINUTES), at)}"
    if hoststate.off_as_scheduled(site, host, at):
        hours = hoststate.branch_hours_of(site, host)
        wake = next((e.at for e in hours.events(at, at + dt.timedelta(days=400))
                     if e.kind == "wake"), None) if hours else None
        if not wake:
            return "never: the branch never opens"
        return f"at its next wake: {instant_text(wake + _minutes(AFTER_WAKE_MINUTES), at)}"
    return "now"


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


if __name__ == "__main__":
    sys.exit(main())
