"""The hours checker of ``make validate``: every branch's hours, as each of its hosts sees them.

A checker for :data:`libraryops.validate.CHECKS`. The model is :class:`libraryops.hours.BranchHours`
(close before open, overlapping or touching intervals, a misspelt or missing weekday, an unknown
time zone, a closure that is not a date, minutes out of range, a grace shorter than the patch
window needs, a night too short to shut down and wake).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from libraryops.hours import BranchHours

if TYPE_CHECKING:
    from libraryops.validate import Problem, Site


def check_hours(site: Site) -> list[Problem]:
    """Check the ``branch__*`` hours keys of every ``branch_<slug>`` group, on each member host.

    Each problem names the file that defines the key (found by :meth:`Site.source`, normally
    ``group_vars/branch_<slug>/hours.yml``; when the key is missing, ``hours.yml`` there), the
    key (``branch__hours.wednesday[0]``) and, when that file's path does not name the branch
    (a key defined in ``group_vars/all/``, a host's ``host_vars/``), the branch as the first word
    of the problem. The time zone is checked once, by ``validate.check_branches``.

    Returns:
        The problems, each once, in branch order (empty: every branch's hours are valid).
    """
    problems = []
    for group, members in sorted(site.inventory.branches.items()):
        expected = site.files.path / "group_vars" / group / "hours.yml"
        for problem in site.model_problems(BranchHours, members, expected):
            if problem.key == "branch__timezone":
                continue  # the branch checker owns the time zone (validate.check_branches)
            file = Path(problem.file)
            if group not in file.parts and file.stem != group:
                problem = replace(problem, problem=f"{group}: {problem.problem}")
            problems.append(problem)
    return list(dict.fromkeys(problems))

