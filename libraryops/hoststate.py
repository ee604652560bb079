"""What became of each host in a run, one definition for every target that reports on hosts.

A host a run meant to converge (or verify) ends in one :class:`State`:

- ``converged``: every engine that manages it finished cleanly;
- ``off as scheduled``: it could not be reached, and the hours model says it is off now (a
  public PC outside its branch's wake..shutdown: :meth:`libraryops.hours.BranchHours.pcs_on`);
- ``unreachable``: it could not be reached although it should be on;
- ``failed``: an engine failed on it (the task or operation, and the error's first line);
- ``deferred by opening hours``: a public PC of a branch that is open now, left for after
  closing (``FORCE=1`` or an urgent change overrides).

``off as scheduled`` and ``deferred`` are *pending*: the catch-up runs (:mod:`libraryops.catchup`)
bring such a host to the current commit at its next closed-but-on moment, with no one typing a
command. ``unreachable`` and ``failed`` need a person. Converge, apply, plan, verify and catch-up
report with these lines; the monitoring work reads the same model.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from libraryops.hours import BranchHours
from libraryops.hours_table import instant_text
from libraryops.inventory import SiteInventory


class State(enum.StrEnum):
    """A host's state after a run (see the module docstring)."""

    CONVERGED = "converged"
    OFF_AS_SCHEDULED = "off as scheduled"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    DEFERRED = "deferred by opening hours"


#: States a later catch-up run resolves by itself.
PENDING = frozenset({State.OFF_AS_SCHEDULED, State.DEFERRED})


@dataclass(frozen=True)
class HostState:
    """One host's state, with what a person needs to know (never a secret: the caller redacts
    engine messages before they reach a detail)."""

    host: str
    state: State
    detail: str = ""

    def line(self) -> str:
        """``<host>: <state> (<detail>)``."""
        return f"{self.host}: {self.state}" + (f" ({self.detail})" if self.detail else "")


def branch_hours_of(site: SiteInventory, host: str) -> BranchHours | None:
    """The hours of the host's branch, or None (no branch, or hours that do not validate)."""
    try:
        return BranchHours.from_vars(site.hosts[host])
    except (ValidationError, KeyError):
        return None


def off_as_scheduled(site: SiteInventory, host: str, at: dt.datetime) -> str | None:
    """Why ``host`` is off by its own schedule at ``at`` (a public PC of a branch whose PCs are
    off then: "PCs off until <next wake>"), or None (it should be on: other machines are
    always on)."""
    if host not in site.groups.get("public_pcs", []):
        return None
    hours = branch_hours_of(site, host)
    if hours is None or hours.pcs_on(at):
        return None
    wake = next((e.at for e in hours.events(at, at + dt.timedelta(days=400))
                 if e.kind == "wake"), None)
    return f"public PCs off until {instant_text(wake, at)}" if wake else "the branch never opens"


def not_reached(site: SiteInventory, host: str, at: dt.datetime, why: str) -> HostState:
    """A host no engine could reach: off as scheduled when its schedule says so, else
    unreachable (with ``why``, e.g. ssh's error)."""
    off = off_as_scheduled(site, host, at)
    return HostState(host, State.OFF_AS_SCHEDULED, off) if off else HostState(
        host, State.UNREACHABLE, why)


def open_branch(site: SiteInventory, host: str, at: dt.datetime) -> str | None:
    """For a public PC whose branch is open at ``at``: "<branch> open until <closing>"; else
    None (other machines are never deferred)."""
    if host not in site.groups.get("public_pcs", []):
        return None
    hours = branch_hours_of(site, host)
    if hours is None or not hours.is_open(at):
        return None
    closing = hours.next_closing(at)
    branch = site.hosts[host].get("branch__name", "its branch")
    return f"{branch} open" + (f" until {instant_text(closing, at)}" if closing else "")


def from_reports(site: SiteInventory, hosts: Iterable[str], reports: Path,
                 at: dt.datetime) -> dict[str, HostState]:
    """Each host's state from a run's engine reports in ``reports``.

    Reads every ``ansible-*.json`` recap written by the ``libraryops_stats`` callback (with each
    host's first failed task and message, and its unreachable message) and every
    ``pyinfra-*.json``; a host absent from all of them is ``converged`` only if no engine was
    meant to run on it (the caller passes only the hosts it ran).

    Args:
        site: the site.
        hosts: the hosts the run targeted.
        reports: the run's reports directory.
        at: when the run happened (for "off as scheduled").
    """
    found: dict[str, HostState] = {}
    for stats in sorted(reports.glob("ansible-*.json")):
        for host, recap in json.loads(stats.read_text(encoding="utf-8")).items():
            if host in found:
                continue
            if recap.get("unreachable"):
                found[host] = not_reached(site, host, at, recap.get("unreachable_msg", ""))
            elif recap.get("failures"):
                task = recap.get("failed_task", "a task")
                found[host] = HostState(host, State.FAILED,
                                        f"ansible: {task}: {recap.get('failed_msg', '')}".strip())
    for output in sorted(reports.glob("pyinfra-*.json")):
        text = output.read_text(encoding="utf-8").strip()
        results = (json.loads(text) if text else {}).get("results") or {}
        operations = results.get("operations", [])
        for host in results.get("failed_hosts", []):
            if host in found:
                continue
            failed = next((op["name"] for op in operations if host in op["error"]), None)
            touched = any(host in op["success"] + op["no_change"] + op["error"]
                          for op in operations)
            found[host] = (HostState(host, State.FAILED, f"pyinfra: {failed}") if failed
                           else HostState(host, State.FAILED, "pyinfra: stopped") if touched
                           else not_reached(site, host, at, "pyinfra could not connect"))
    return {h: found.get(h, HostState(h, State.CONVERGED)) for h in hosts}
