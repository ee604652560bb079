"""When the nightly check runs: a GitHub Actions schedule derived from the hours model.

``make verify`` checks hosts that are on. Public PCs are on by their own schedule only from each
opening day's wake to its shutdown, so the nightly workflow's ``schedule:`` (cron, always UTC:
docs.github.com, "Events that trigger workflows", ``schedule``) is generated from the site's
hours, not written by hand: for each weekday on which some branch opens, the earliest UTC minute
that is at least :data:`AFTER_WAKE_MINUTES` after every open branch's wake and at least
:data:`BEFORE_CLOSING_MINUTES` before its last closing, in both its standard and its
daylight-saving offset (so one cron line holds all year). Patch windows start after closing, so
that minute never meets an update or a reboot. Weekdays on which no branch opens get no run
(every PC is off by design). On a closure date the run still fires; the PCs it finds off are
off as scheduled (:meth:`libraryops.hours.BranchHours.pcs_on`).

``python -m libraryops.nightly --site-dir DIR [--write WORKFLOW]`` prints the cron lines, and
with ``--write`` replaces the block between :data:`BEGIN` and :data:`END` in the workflow file
(``make nightly-schedule SITE=<site>``; the shipped workflow carries the example site's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from libraryops import clock
from libraryops.hours import BranchHours
from libraryops.hours_table import branch_hours
from libraryops.hours_values import DAY, WEEKDAYS
from libraryops.inventory import InventoryError, load_site

#: Minutes after the wake before the check (the PCs have booted).
AFTER_WAKE_MINUTES = 10
#: Minutes before the last closing after which the check no longer starts.
BEFORE_CLOSING_MINUTES = 30
#: The generated block of the workflow file lies between these lines.
BEGIN = "    # BEGIN libraryops nightly schedule (make nightly-schedule; do not edit by hand)"
END = "    # END libraryops nightly schedule"


class ScheduleError(ValueError):
    """No single instant of a weekday has every open branch's PCs on."""


def _offsets(hours: BranchHours, year: int) -> set[int]:
    """The UTC offsets (whole minutes) the branch's zone uses in ``year``."""
    zone = hours.zone
    return {int(dt.datetime(year, month, 1, 12, tzinfo=zone).utcoffset().total_seconds()) // 60
            for month in range(1, 13)}


def weekday_window(branches: list[BranchHours], weekday: int,
                   year: int) -> tuple[int, int] | None:
    """``(first, last)`` UTC minutes, counted from midnight UTC of the weekday's date, at which
    every branch open on ``weekday`` (0 = Monday) has its PCs on and is not about to close, in
    every offset of ``year``; None when no branch opens that weekday.

    Raises:
        ScheduleError: the branches open that day share no such minute.
    """
    low, high, any_open = -DAY, 2 * DAY, False
    for hours in branches:
        intervals = getattr(hours.branch__hours, WEEKDAYS[weekday])
        if not intervals or hours.always_open:
            continue
        any_open = True
        first = intervals[0][0] - hours.branch__wake_lead_minutes + AFTER_WAKE_MINUTES
        last = intervals[-1][1] - BEFORE_CLOSING_MINUTES
        for offset in _offsets(hours, year):
            low, high = max(low, first - offset), min(high, last - offset)
    if not any_open:
        return None
    if low > high:
        raise ScheduleError(f"{WEEKDAYS[weekday]}: no minute has the PCs of every open branch "
                            "on in all their UTC offsets; give the branches' hours more overlap")
    return low, high


def crons(branches: list[BranchHours], year: int) -> list[str]:
    """The cron lines (``M H * * DOWS``, UTC, cron weekdays 0 = Sunday) of the nightly check.

    Raises:
        ScheduleError: see :func:`weekday_window`.
    """
    times: dict[tuple[int, int], set[int]] = {}
    for weekday in range(7):
        window = weekday_window(branches, weekday, year)
        if window is None:
            continue
        low, high = window
        at = low + 5 if low % 60 == 0 and low + 5 <= high else low  # off the crowded :00
        shift, minute = divmod(at, DAY)
        cron_weekday = ((weekday + shift) % 7 + 1) % 7
        times.setdefault((minute // 60, minute % 60), set()).add(cron_weekday)
    return [f"{m} {h} * * {','.join(map(str, sorted(days)))}"
            for (h, m), days in sorted(times.items())]


def workflow_text(text: str, lines: list[str]) -> str:
    """The workflow file's text with the generated block replaced by ``lines``.

    Raises:
        ScheduleError: the file has no :data:`BEGIN` ... :data:`END` block.
    """
    if BEGIN not in text or END not in text:
        raise ScheduleError(f"no generated block ({BEGIN.strip()} ... {END.strip()})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = "".join(f'    - cron: "{line}"\n' for line in lines)
    return f"{head}{BEGIN}\n{body}{END}{tail}"


def workflow_crons(text: str) -> list[str]:
    """The cron lines of the generated block of a workflow file's text."""
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return [line.split('"')[1] for line in block.splitlines() if "cron:" in line]


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring); 1 when the site cannot be read or has no schedule."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.nightly")
    parser.add_argument("--site-dir", type=Path, required=True, help="inventories/<site>")
    parser.add_argument("--write", type=Path, help="the workflow file to update")
    parser.add_argument("--year", type=int, default=None,
                        help="the year whose UTC offsets are used (default: now's year)")
    args = parser.parse_args(argv)
    try:
        year = args.year or clock.now().year
        found = branch_hours(load_site(args.site_dir))
        if None in found.values():
            raise ScheduleError("a branch's hours do not validate: run make validate")
        lines = crons(list(found.values()), year)
        if args.write:
            args.write.write_text(workflow_text(args.write.read_text(), lines))
    except (InventoryError, ScheduleError, OSError, ValueError) as exc:
        print(f"nightly: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
