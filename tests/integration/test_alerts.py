"""Alerts that follow the opening hours, by e-mail, end to end in the lab: the real Prometheus
and Alertmanager on the monitoring host, a public PC really powered off, the message read from
the lab's SMTP sink (:mod:`libraryops.lab.mail`).

A session reset made to fail by a planted fault alerts at once, at any hour. The lab's printer
(the branch's print queue, :mod:`libraryops.lab.printer`) stopped at the moment the PC goes off
is e-mailed in the same wait (the blackbox exporter's probe, ``ServiceDownWhileStaffed``).

The branch's state is set with the monitoring host's own publisher
(``libraryops-branch-state <branch> <state>``, what its state timers run), so the test means the
same at any hour CI runs; afterwards it publishes the state the hours model gives for now
(``BranchHours.state``) and starts the powered-off PCs and the printer again (``make lab-up``).

Lab only: it ends a patron session and powers public PCs off. It runs with the other lab tests
in `make test`.
"""

import datetime as dt
import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import testinfra

from deploy.defaults import DEFAULTS
from deploy.reset import CLEANUP_SCRIPT as RESET
from libraryops import paths
from libraryops.hours import BranchHours
from libraryops.inventory import hosts_file, load_site
from libraryops.lab import mail, printer
from libraryops.lab.config import load_config

LAB = load_site(paths.site_dir("lab"))
CONFIG = load_config(paths.site_dir("lab"))
MONITOR = LAB.groups["monitoring"][0]
#: Powered off while the branch is open (an e-mail names it), and while it is closed (none).
OPEN_PC, CLOSED_PC = LAB.groups["public_pcs"][:2]
BRANCH = next(group.removeprefix("branch_") for group, members in LAB.branches.items()
              if OPEN_PC in members)
PUBLISH = "/usr/local/sbin/libraryops-branch-state"
#: The branch's print queue: its probe fails while the lab's printer is stopped.
PRINT_QUEUE = LAB.hosts[OPEN_PC]["branch__print_queue_uri"]
PROMETHEUS = f"http://{LAB.hosts[MONITOR]['ansible_host']}:9090"
#: Issue 16: an e-mail naming the PC within 3 minutes of it going off while the branch is open.
DELIVERY_LIMIT = 180


@pytest.fixture(scope="module")
def monitor():
    """The monitoring host; afterwards its branch state is the hours model's again and every
    powered-off PC and the printer are up."""
    host = _host(MONITOR)
    yield host
    now = BranchHours.from_vars(LAB.hosts[OPEN_PC]).state(dt.datetime.now(dt.UTC))
    host.run_expect([0], f"{PUBLISH} {BRANCH} {now}")
    assert subprocess.run(["make", "lab-up"], cwd=paths.REPO, check=False).returncode == 0


def _query(expr: str) -> list[dict]:
    """Prometheus' instant query result (a list of samples) for a PromQL expression."""
    url = f"{PROMETHEUS}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)["data"]["result"]


def _wait(check, timeout: float, what: str):
    """Poll ``check()`` every 2 s until it returns something true (returned), else fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _publish(monitor, state: str) -> None:
    """Publish ``state`` for the branch and wait until Prometheus has scraped it."""
    monitor.run_expect([0], f"{PUBLISH} {BRANCH} {state}")
    _wait(lambda: _query(f'libraryops_branch_state{{branch="{BRANCH}",state="{state}"}} == 1'),
          60, f"Prometheus reading branch {BRANCH} as {state}")


def _host(name: str):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=str(hosts_file(LAB.path)))


def _power_off(pc: str) -> None:
    """Power a public PC off the way a patron or a power cut would (its systemd shuts down)."""
    _host(pc).run_expect([0], "systemctl poweroff --no-block")


def _firing_mail_naming(name: str, since: float) -> list[str]:
    """Subjects of the alert e-mails the sink got since ``since`` (Unix time) whose firing part
    names ``name`` (a host, a print queue)."""
    found = []
    for message in mail.messages(CONFIG.layout.maildir):
        if message.get_date() < since:
            continue
        text = next((part.get_payload(decode=True).decode() for part in message.walk()
                     if part.get_content_type() == "text/plain"), "")
        if any(line.startswith("FIRING:") and name in line for line in text.splitlines()):
            found.append(str(message["Subject"]))
    return found


def test_a_failed_session_reset_alerts_at_once(monitor):
    """A fault the reset cannot undo (a file system mounted inside the patron's home, which it
    never deletes across) makes it fail; its evidence alerts and is e-mailed."""
    pc = _host(OPEN_PC)
    patron = LAB.hosts[OPEN_PC].get("public_pc__patron_user", DEFAULTS["public_pc__patron_user"])
    mount = f"/home/{patron}/Downloads"
    pc.run_expect([0], "systemctl stop lightdm")
    try:
        pc.run(f"loginctl terminate-user {patron}")
        _wait(lambda: pc.run(f"pgrep -u {patron}").rc == 1, 60, f"{patron}'s processes ending")
        pc.run_expect([0], f"mount -t tmpfs -o size=1m libraryops-test {mount}")
        failed_at = time.time()
        assert pc.run(f"env USER={patron} HOME=/home/{patron} {RESET}").rc == 1
        _wait(lambda: _query(f'ALERTS{{alertname="SessionResetFailed", instance="{OPEN_PC}", '
                             'alertstate="firing"}'), 90, "the reset alert firing")
        subjects = _wait(lambda: _firing_mail_naming(OPEN_PC, failed_at), 90,
                         f"an e-mail naming {OPEN_PC}'s failed reset")
        print(f"\nreset alert e-mail after {time.time() - failed_at:.0f} s: {subjects[0]}")
    finally:
        pc.run(f"umount {mount}")
        pc.run_expect([0], f"env USER={patron} HOME=/home/{patron} {RESET}")
        pc.run_expect([0], "systemctl start lightdm")
    _wait(lambda: not _query(f'ALERTS{{alertname="SessionResetFailed", instance="{OPEN_PC}"}}'),
          90, "the reset alert resolving after a reset that succeeds")


def test_a_pc_off_while_open_is_mailed_and_one_off_while_closed_is_not(monitor):
    """The printer stops with the PC (one wait for both e-mails); the fixture starts it again."""
    _publish(monitor, "open")
    off_at = time.time()
    _power_off(OPEN_PC)
    assert printer.stop_printer(CONFIG.layout), "the lab's printer was not running"

    def both():
        pc, queue = _firing_mail_naming(OPEN_PC, off_at), _firing_mail_naming(PRINT_QUEUE, off_at)
        return (pc[0], queue[0]) if pc and queue else None

    subjects = _wait(both, DELIVERY_LIMIT,
                     f"e-mails naming {OPEN_PC} and {PRINT_QUEUE}, off while {BRANCH} is open")
    print(f"\nalert e-mails for {OPEN_PC} and the print queue after "
          f"{time.time() - off_at:.0f} s: {'; '.join(subjects)}")

    _publish(monitor, "closed")
    off_at = time.time()
    _power_off(CLOSED_PC)
    _wait(lambda: _query(f'up{{instance="{CLOSED_PC}"}} == 0'), 60,
          f"Prometheus seeing {CLOSED_PC} down")
    # Long enough for the open case's whole path: the rule's "for", Alertmanager's wait, and
    # a scrape and an evaluation on each side (the lab scrapes and evaluates every 5 s).
    settle = LAB.hosts[MONITOR]["monitoring__down_minutes"] * 60 + 30
    time.sleep(settle)
    assert not _query(f'ALERTS{{alertname="PublicPCDownWhileOpen", instance="{CLOSED_PC}"}}')
    assert not _firing_mail_naming(CLOSED_PC, off_at), f"mail while {BRANCH} is closed"
