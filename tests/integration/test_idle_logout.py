"""Idle logout on a lab public PC: an idle patron session is warned, then ended and reset.

The lab's inventory idle time (minutes) is too long for a test, so the test gives the real
watcher a short one through a runtime drop-in (/run/systemd/system/<unit>.d/, gone at reboot)
and removes it afterwards. The X server's idle counter is real: nothing types in the lab.
"""

import time

import testinfra

from libraryops import paths
from libraryops.inventory import hosts_file, load_site

LAB = load_site(paths.site_dir("lab"))
PC = LAB.groups["public_pcs"][-1]
UNIT = "libraryops-idle-logout.service"
DROPIN = f"/run/systemd/system/{UNIT}.d/test-short-idle.conf"
IDLE_SECONDS, WARNING_SECONDS = 20, 10


def _journal(host, since):
    return host.check_output(f"journalctl -t libraryops-idle-logout --since @{since} -o cat")


def test_an_idle_session_is_warned_then_ended_and_reset():
    host = testinfra.get_host(f"ansible://{PC}", ansible_inventory=str(hosts_file(LAB.path)))
    since = int(host.check_output("date +%s"))
    host.run_expect([0], f"mkdir -p $(dirname {DROPIN}) && printf '[Service]\\n"
                         f"Environment=IDLE_SECONDS={IDLE_SECONDS} "
                         f"WARNING_SECONDS={WARNING_SECONDS} CHECK_INTERVAL_SECONDS=2\\n' "
                         f"> {DROPIN} && systemctl daemon-reload && systemctl restart {UNIT}")
    try:
        deadline = time.monotonic() + 120
        while "ending it" not in _journal(host, since) and time.monotonic() < deadline:
            time.sleep(2)
    finally:
        host.run_expect([0], f"rm -f {DROPIN} && systemctl daemon-reload && "
                             f"systemctl restart {UNIT}")
    journal = _journal(host, since)
    assert "warning the patron" in journal
    assert "ending it" in journal
    assert journal.index("warning the patron") < journal.index("ending it")
    # LightDM runs the reset when the ended session closes.
    deadline = time.monotonic() + 60
    resets = ""
    while "home_matches_skeleton=yes" not in resets and time.monotonic() < deadline:
        time.sleep(1)
        resets = host.check_output(
            f"journalctl -t libraryops-session-reset --since @{since} -o cat")
    assert "home_matches_skeleton=yes" in resets
