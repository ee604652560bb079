"""Every PC gets every change: one PC off blocks nobody, and it catches up by itself.

On the converged lab, with real commits made for the test (a throwaway branch of this
repository; the runs name them with ``LIBRARYOPS_COMMIT``) and the controller's clock set to
instants the lab branch's hours pick (``LIBRARYOPS_NOW``; the hosts' clocks never move):

1. main-pub-02 is powered off (``systemctl poweroff`` inside it); ``make converge`` of commit Y
   converges every other host through both engines and names main-pub-02 unreachable.
2. ``make catch-up`` at night, when the PCs are off by their schedule, calls it off as
   scheduled; once it is back on, the runner's catch-up unit (its real ExecStart, run here as
   systemd would run it) converges exactly that PC after closing: it records Y.
3. A later ordinary commit is deferred on main-pub-01 while its branch is open; an urgent one
   (``Urgent:`` trailer) warns the patron, ends the session (reset) and converges it.

Runs after the other integration tests (conftest.py): the hosts keep the test commits.
"""

import datetime as dt
import os
import shlex
import subprocess
import time

import pytest

from libraryops import catchup, paths
from libraryops.engines import Pipeline
from libraryops.hours import BranchHours
from libraryops.inventory import load_site
from libraryops.lab.config import load_config

LAB = load_site(paths.site_dir("lab"))
HOURS = BranchHours.from_vars(LAB.hosts["main-pub-01"])
OFF, ON = "main-pub-02", "main-pub-01"
BRANCH = "libraryops-test-catch-up"


def _moments() -> dict[str, dt.datetime]:
    """An opening day's noon (open, PCs on), its evening after closing (closed, PCs on) and the
    night after (PCs off), the first such day from today on."""
    now = dt.datetime.now(dt.UTC)
    events = HOURS.events(now, now + dt.timedelta(days=21))
    day = next(e.day for e in events if e.kind == "wifi_on" and e.at > now)
    of = {e.kind: e.at for e in events if e.day == day}
    return {"open": of["wifi_on"] + dt.timedelta(hours=2),
            "evening": of["wifi_off"] + dt.timedelta(minutes=30),
            "night": of["shutdown"] + dt.timedelta(hours=1)}


MOMENTS = _moments()


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(paths.REPO), *args], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def commits():
    """Three commits on a throwaway branch: Y (a change made while a PC is off), then an
    ordinary one and an urgent one after it. Removed with the branch afterwards."""
    tree = _git("rev-parse", "HEAD^{tree}")
    made = {}
    parent = _git("rev-parse", "HEAD")
    for name, message in (("Y", "test: a change while main-pub-02 is off"),
                          ("ordinary", "test: an ordinary change"),
                          ("urgent", "test: an urgent change\n\nUrgent: test urgent change")):
        parent = made[name] = subprocess.run(
            ["git", "-C", str(paths.REPO), "-c", "user.name=libraryops test",
             "-c", "user.email=test@libraryops.invalid", "commit-tree", tree, "-p", parent,
             "-m", message], capture_output=True, text=True, check=True).stdout.strip()
    _git("branch", "-f", BRANCH, parent)  # reachable, so git log and gc see them
    yield made
    _git("branch", "-D", BRANCH)


def _make(*args: str, commit: str, now: dt.datetime) -> subprocess.CompletedProcess:
    env = {"LIBRARYOPS_COMMIT": commit, "LIBRARYOPS_NOW": now.isoformat()}
    proc = subprocess.run(["make", *args], cwd=paths.REPO, capture_output=True, text=True,
                          check=False, env={**os.environ, **env})
    print(proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def _records(hosts: list[str]) -> dict[str, catchup.Record]:
    return catchup.records(LAB, hosts, str(paths.REPO / ".venv" / "bin" / "ansible"),
                           Pipeline("lab").env)


def _runs(hosts: list[str]) -> dict[str, str | None]:
    return {h: (r.runs(catchup.engines_of(LAB, h)) if r.reachable else None)
            for h, r in _records(hosts).items()}


def _root_ssh(host: str, command: str, timeout: float = 30) -> subprocess.CompletedProcess:
    config = load_config(paths.site_dir("lab"))
    address = LAB.hosts[host]["ansible_host"]
    return subprocess.run(["ssh", "-F", str(config.layout.ssh_config), "-o", "BatchMode=yes",
                           "-o", "ConnectTimeout=3", f"root@{address}", command],
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_one_pc_off_blocks_nobody_and_is_named(commits):
    _root_ssh(OFF, "systemctl poweroff")
    deadline = time.monotonic() + 60
    while _root_ssh(OFF, "true").returncode == 0 and time.monotonic() < deadline:
        time.sleep(1)
    proc = _make("converge", commit=commits["Y"], now=MOMENTS["open"])
    assert proc.returncode != 0
    assert f"not converged: {OFF}: unreachable" in proc.stderr
    assert "not converged: " not in proc.stderr.replace(f"not converged: {OFF}", "")
    others = [h for h in LAB.hosts if h != OFF]
    assert _runs(others) == dict.fromkeys(others, commits["Y"])  # both engines on main-pub-01


def test_a_pc_that_was_off_catches_up_unattended_after_closing(commits):
    night = _make("catch-up", commit=commits["Y"], now=MOMENTS["night"])
    assert f"not converged: {OFF}: off as scheduled (public PCs off until" in night.stderr
    assert night.returncode != 0  # pending hosts exit 3 without PENDING_OK=1
    assert subprocess.run(["make", "lab-up"], cwd=paths.REPO, check=False).returncode == 0
    assert _runs([OFF]) != {OFF: commits["Y"]}
    # The runner's unit, as systemd would start it from its timer (its ExecStart, here).
    service = catchup.runner_units(paths.site_dir("lab"), [HOURS])["libraryops-catch-up.service"]
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    env = {"LIBRARYOPS_COMMIT": commits["Y"], "LIBRARYOPS_NOW": MOMENTS["evening"].isoformat()}
    proc = subprocess.run(shlex.split(exec_start.removeprefix("ExecStart=")), cwd=paths.REPO,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, **env})
    print(proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.returncode == 0
    behind = [line for line in proc.stdout.splitlines() if line.startswith("catch-up: ")]
    assert len(behind) == 1 and behind[0].startswith(f"catch-up: {OFF} runs "), behind
    assert f"{len(LAB.hosts)} of {len(LAB.hosts)} hosts converged" in proc.stdout
    assert _runs(sorted(LAB.hosts)) == dict.fromkeys(sorted(LAB.hosts), commits["Y"])


def test_an_urgent_change_reaches_a_pc_of_an_open_branch_after_the_warning(commits):
    deferred = _make("catch-up", f"LIMIT={ON}", commit=commits["ordinary"], now=MOMENTS["open"])
    assert f"not converged: {ON}: deferred by opening hours (Main Library open" in deferred.stderr
    # Ansible's baseline still converges it (nothing a patron sees); the kiosk deploy waits.
    assert _records([ON])[ON].commits["pyinfra"] == commits["Y"]
    assert _runs([ON]) == {ON: None}
    since = _root_ssh(ON, "date +%s").stdout.strip()
    proc = _make("catch-up", f"LIMIT={ON}", "PENDING_OK=1", commit=commits["urgent"],
                 now=MOMENTS["open"])
    assert proc.returncode == 0
    assert _runs([ON]) == {ON: commits["urgent"]}
    journal = _root_ssh(ON, f"journalctl -t libraryops-idle-logout --since @{since} -o cat")
    assert "urgent update (test urgent change): warning session" in journal.stdout
    assert "urgent update (test urgent change): ending session" in journal.stdout
    reset = _root_ssh(ON, f"journalctl -t libraryops-session-reset --since @{since} -o cat")
    assert reset.stdout.strip(), "the ended session was reset"
