"""``python -m tools.bench`` (``make bench``, ``make bench-smoke``): see :mod:`tools.bench`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from libraryops import paths
from libraryops.lab.system import LabError, exclusive
from tools.bench import __doc__ as bench_doc
from tools.bench.report import environment, write_report
from tools.bench.runner import Bench
from tools.bench.settings import (
    LOCK_FILE,
    LOCK_TIMEOUT,
    MAX_HOSTS,
    BenchError,
)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """CLI (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=bench_doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="2 5 10", help='host counts N (default "2 5 10")')
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (default 3)")
    parser.add_argument("--noop-only", action="store_true",
                        help="the smoke: no cold converges, no Ansible proof")
    parser.add_argument("--budget-minutes", type=float, default=35,
                        help="minutes the run should take: repetitions that would overrun it "
                             "are skipped and the report says so (0: no limit; default 35)")
    parser.add_argument("--report-dir", type=Path, default=paths.REPORTS)
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.hosts.replace(",", " ").split()]
    except ValueError:
        parser.error(f"--hosts: {args.hosts!r} is not a list of numbers")
    if not counts or min(counts) < 1 or max(counts) > MAX_HOSTS or args.repeat < 1:
        parser.error(f"--hosts needs counts 1-{MAX_HOSTS} (the bench's addresses on the lab "
                     "bridge) and --repeat >= 1")
    if os.geteuid() != 0:
        print("bench: needs root (the lab makes mounts and links)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with exclusive(LOCK_FILE, LOCK_TIMEOUT):
            return _main(args, counts)
    except LabError as exc:  # another bench still runs after LOCK_TIMEOUT
        print(f"bench: {exc}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace, counts: list[int]) -> int:
    began = time.monotonic()
    load_start = os.getloadavg()[0]
    state = Path(tempfile.mkdtemp(prefix="libraryops-bench-"))
    bench = None
    failed = False
    try:
        bench = Bench(counts, args.repeat, args.noop_only, state, args.budget_minutes * 60)
        bench.run()
    except (BenchError, LabError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        failed = True
    except (KeyboardInterrupt, SystemExit):
        print("bench: interrupted", file=sys.stderr)
        failed = True
    finally:
        if bench is not None:
            bench.cleanup()
    if bench is None or not bench.samples:
        print(f"bench: nothing measured; run files kept in {state}", file=sys.stderr)
        return 1
    info = {**environment(), "load_start": load_start, "load_end": os.getloadavg()[0]}
    markdown = write_report(bench, args.report_dir, info, time.monotonic() - began)
    if failed or bench.problems:
        for problem in bench.problems:
            print(f"bench: problem: {problem}", file=sys.stderr)
        print(f"bench: run files kept in {state}", file=sys.stderr)
    else:
        shutil.rmtree(state, ignore_errors=True)
    print(f"bench: {markdown} and {markdown.with_suffix('.json').name} "
          f"({(time.monotonic() - began) / 60:.1f} min)", flush=True)
    return 1 if failed or bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
