"""Which commit of this repository a run applies, and whether it is marked urgent.

Every engine run records on each host the commit it converged from (``converged`` role,
deploy/record.py), so a host knows what it runs and a catch-up run can tell who is behind. The
commit is ``git rev-parse HEAD`` of the repository (with ``-dirty`` when tracked files have
uncommitted changes: such a run is not the commit), or ``LIBRARYOPS_COMMIT`` when set (a CI
checkout without history; the tests' own commits).

A change is **urgent** when a commit carries the trailer ``Urgent: <reason>`` (``git
interpret-trailers``; e.g. ``git commit --trailer "Urgent: browser zero-day"``): then public PCs
of open branches are not deferred to closing time; each patron is warned and the session reset
first (:mod:`libraryops.catchup`).
"""

from __future__ import annotations

import os
import re
import subprocess

from libraryops import paths

#: Overrides the commit a run applies (must name a commit of this repository).
COMMIT_ENV = "LIBRARYOPS_COMMIT"
#: The commit-message trailer that marks a change urgent.
URGENT_TRAILER = "Urgent"
_SHA = re.compile(r"[0-9a-f]{40}")


class RevisionError(RuntimeError):
    """The repository's commit cannot be read (not a git checkout, or a bad override)."""


def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(paths.REPO), *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RevisionError(f"git {args[0]}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout.strip()


def current() -> str:
    """The commit this run applies: 40 hex digits, with ``-dirty`` when tracked files differ
    from it.

    Raises:
        RevisionError: not a git checkout, or ``LIBRARYOPS_COMMIT`` names no commit here.
    """
    override = os.environ.get(COMMIT_ENV, "").strip()
    if override:
        # A run from a dirty tree hands its "<sha>-dirty" on to the engines and checks it starts.
        base = override.removesuffix("-dirty")
        try:
            sha = _git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        except RevisionError:
            sha = ""
        if not _SHA.fullmatch(sha):
            raise RevisionError(f"{COMMIT_ENV}={override}: no such commit in this repository")
        return sha + override[len(base):]
    sha = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}-dirty" if dirty else sha


def urgent_reason(commit: str, since: str | None = None) -> str | None:
    """The reason of the newest ``Urgent:`` trailer among the commits a host that runs ``since``
    would receive to reach ``commit`` (only ``commit`` itself when ``since`` is unknown, not an
    ancestor, or equal), or None.

    Raises:
        RevisionError: ``commit`` is not a commit of this repository.
    """
    head = commit.removesuffix("-dirty")
    base = since.removesuffix("-dirty") if since else None
    if base and base != head and _is_ancestor(base, head):
        revisions = [f"{base}..{head}"]
    else:
        revisions = ["-1", head]
    out = _git("log", "--format=%(trailers:key=" + URGENT_TRAILER + ",valueonly,separator=%x1f)",
               *revisions)
    reasons = [r.strip() for line in out.splitlines() for r in line.split("\x1f") if r.strip()]
    return reasons[0] if reasons else None


def _is_ancestor(older: str, newer: str) -> bool:
    proc = subprocess.run(["git", "-C", str(paths.REPO), "merge-base", "--is-ancestor", older,
                           newer], capture_output=True, check=False)
    return proc.returncode == 0
