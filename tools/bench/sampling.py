"""Peak memory of a run: the resident set of the controller's whole process tree, from ``/proc``.
"""

from __future__ import annotations

import os
import signal
import threading

from tools.bench.settings import (
    SAMPLE_SECONDS,
)


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, IndexError, ValueError):
        return 0


def all_pids() -> set[int]:
    """Every process id on the machine now."""
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every :data:`SAMPLE_SECONDS`.

    Processes that existed before the root started are never its descendants (pids are not
    reused that fast), so each sample reads ``/proc/<pid>/stat`` only of processes it has not
    seen yet and ``statm`` of the descendants. A process first seen after it was re-parented
    (an SSH ControlPersist master) does not count: it outlives the run.

    Attributes:
        peak_kib: the highest sum of RSS seen, KiB.
    """

    def __init__(self, root: int, known: set[int]):
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self._ours = {root}
        self._others = set(known) - {root}
        self._stop_event = threading.Event()

    def sample(self) -> int:
        """One sample: the tree's RSS now, KiB (also folded into :attr:`peak_kib`)."""
        alive = all_pids()
        self._ours &= alive
        self._others &= alive
        for pid in sorted(alive - self._ours - self._others):
            parent = _ppid(pid)
            (self._ours if parent in self._ours else self._others).add(pid)
        total = sum(_rss_kib(pid) for pid in self._ours)
        self.peak_kib = max(self.peak_kib, total)
        return total

    def run(self) -> None:
        """Sample until :meth:`stop`."""
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> float:
        """Stop sampling; return the peak in MiB."""
        self._stop_event.set()
        self.join(timeout=5)
        return round(self.peak_kib / 1024, 1)



def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (an engine run and its children), if any."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
