"""The privacy proof on a lab public PC: nothing of a patron survives the end of their session.

Through the real path: LightDM's autologin session, `loginctl terminate-session`, LightDM's
session-cleanup-script, LightDM's automatic re-login. The unique token is made on the host and
kept in a root-only file, so it never appears on a command line (sudo would log it and the
search would find our own log line).

Lab only: these tests end patron sessions and pause the print queue. They run after `make lab`
(tests/integration/test_lab.py) in `make test`.
"""

import time

import pytest
import testinfra

from deploy.reset import EVIDENCE_FILE, evidence_path
from libraryops import paths
from libraryops.inventory import hosts_file, load_site

LAB = load_site(paths.site_dir("lab"))
PC = LAB.groups["public_pcs"][0]
VARS = LAB.hosts[PC]
PATRON = VARS["public_pc__patron_user"]
QUEUE = VARS["public_pc__print_queue_name"]
RESET = "/usr/local/sbin/libraryops-session-reset"
STATUS = "/var/lib/libraryops/session-reset.status"
SKELETON = "/etc/libraryops/patron-skeleton"
TOKEN_DIR = "/run/libraryops-privacy-test"
TOKEN = f"$(cat {TOKEN_DIR}/token)"
PLANT_SCRIPT = "/run/libraryops-privacy-plant.sh"
#: Seconds to wait for LightDM's cleanup and re-login.
RELOGIN_TIMEOUT = 90

# Planted as the patron (runuser keeps the exported TOKEN; at(1) needs a directory the patron can
# enter). Each line leaves one artifact named and filled with the token.
PLANT = f"""
set -e
cd /home/{PATRON}
echo "$TOKEN" > "$TOKEN-home.txt"
echo "$TOKEN" > "Downloads/$TOKEN-download.txt"
echo "$TOKEN" > "/tmp/$TOKEN-tmp.txt"
echo "$TOKEN" > "/var/tmp/$TOKEN-vartmp.txt"
echo "$TOKEN" > "/dev/shm/$TOKEN-shm.txt"
mkdir -p .mozilla/firefox/planted.default
python3 -c 'import os, sqlite3
db = sqlite3.connect(".mozilla/firefox/planted.default/places.sqlite")
db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT, title TEXT)")
db.execute("INSERT INTO moz_places (url, title) VALUES (?, ?)",
           ("http://10.123.0.1/catalog/?q=" + os.environ["TOKEN"], os.environ["TOKEN"]))
db.commit()'
lp -d {QUEUE} -t "$TOKEN-print" "$TOKEN-home.txt" >/dev/null
echo "0 3 * * * echo $TOKEN" | crontab -
echo "echo $TOKEN" | at now + 2 hours 2>/dev/null
echo "$TOKEN" > "/var/lib/lightdm-data/{PATRON}/$TOKEN-lightdm.txt"
# Every other directory the patron may write, on every file system a session sees.
for root in / /run /dev/shm /tmp /var/tmp; do
    find "$root" -xdev \\( -path /proc -o -path /sys -o -path /home/{PATRON} \\
        -o -path {TOKEN_DIR} \\) -prune -o -type d -writable -print 2>/dev/null
done | sort -u | while IFS= read -r dir; do
    echo "$TOKEN" > "$dir/$TOKEN-anywhere.txt" 2>/dev/null || true
done
setsid sleep 4242 </dev/null >/dev/null 2>&1 &
"""
LINGER = f"/var/lib/systemd/linger/{PATRON}"


@pytest.fixture(scope="module")
def pc():
    host = testinfra.get_host(f"ansible://{PC}", ansible_inventory=str(hosts_file(LAB.path)))
    host.run_expect([0], f"install -d -m 0700 {TOKEN_DIR} && "
                         f"cat /proc/sys/kernel/random/uuid | tr -d - > {TOKEN_DIR}/token")
    host.run_expect([0], f"cat > {PLANT_SCRIPT} <<'EOF'\n{PLANT}\nEOF\nchmod 0755 {PLANT_SCRIPT}")
    yield host
    host.run(f"cupsenable {QUEUE}; rm -rf {TOKEN_DIR} {PLANT_SCRIPT}")


def patron_sessions(host):
    """Ids of the patron's active sessions on seat0, from logind."""
    found = []
    for line in host.check_output("loginctl list-sessions --no-legend").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == PATRON and fields[3] == "seat0":
            # A session can end between the two calls: then it is simply not active.
            state = host.run(f"loginctl show-session {fields[0]} -p State --value")
            if state.rc == 0 and state.stdout.strip() == "active":
                found.append(fields[0])
    return found


def wait_for(check, failure):
    """Poll ``check()`` once a second until it returns something true (returned); after
    RELOGIN_TIMEOUT seconds fail with ``failure``."""
    deadline = time.monotonic() + RELOGIN_TIMEOUT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{failure} (waited {RELOGIN_TIMEOUT} s)")


def wait_for_session(host, not_this=None):
    """Wait for an active patron session other than ``not_this``; return its id."""
    sessions = wait_for(lambda: [s for s in patron_sessions(host) if s != not_this],
                        "no new patron session")
    return sessions[0]


def reset_status(host):
    """The last reset's status line as a dict, or {} when none was recorded."""
    if not host.file(STATUS).exists:
        return {}
    return dict(item.split("=", 1) for item in host.file(STATUS).content_string.split())


def reset_evidence(host):
    """The reset's series as the node exporter reads them (name{labels} -> value), {} before
    the first reset."""
    path = evidence_path(VARS, EVIDENCE_FILE)
    if not host.file(path).exists:
        return {}
    lines = host.file(path).content_string.splitlines()
    return {name: float(value) for name, value in
            (line.rsplit(" ", 1) for line in lines if line and not line.startswith("#"))}


def token_traces(host):
    """Every place the token still appears: file names, file contents, print/cron/at spools."""
    prune = "-path /proc -o -path /sys -o -path /usr -o -path " + TOKEN_DIR
    names = host.run(
        f"for d in / /tmp /var/tmp /dev/shm /run; do find $d -xdev \\( {prune} \\) -prune "
        f"-o -name \"*{TOKEN}*\" -print; done").stdout.split()
    contents = host.run(
        f"grep -r -l -a -F -e \"{TOKEN}\" / /tmp /var/tmp /dev/shm /run 2>/dev/null "
        f"--exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=apt "
        f"--exclude-dir={TOKEN_DIR.rsplit('/', 1)[1]}").stdout.split()
    jobs = host.check_output(f"LC_ALL=C lpstat -W all -o {QUEUE} 2>/dev/null || true")
    cron = host.run(f"crontab -l -u {PATRON}")
    at_jobs = [line for line in host.check_output("atq").splitlines()
               if line.split()[-1] == PATRON]
    leftovers = host.run(f"pgrep -u {PATRON} -f 'sleep 4242'")
    return {
        "file names": sorted(set(names)),
        "file contents": sorted(set(contents)),
        "print jobs": [line for line in jobs.splitlines() if PATRON in line],
        "crontab": cron.stdout if cron.rc == 0 else "",
        "at jobs": at_jobs,
        "processes": leftovers.stdout.split(),
    }


@pytest.mark.parametrize("run", [1, 2])
def test_nothing_of_a_patron_survives_their_session(pc, run):
    session = wait_for_session(pc)
    pc.run_expect([0], f"cupsdisable {QUEUE}")
    pc.run_expect([0], f"export TOKEN={TOKEN}; runuser -u {PATRON} -- sh {PLANT_SCRIPT}")
    # Lingering as a patron could set it before the deploy's polkit rule (testinfra's
    # test_the_patron_may_not_enable_lingering proves the rule; here the flag is set as root).
    pc.run_expect([0], f"loginctl enable-linger {PATRON}")
    assert pc.file(LINGER).exists
    planted = token_traces(pc)
    # The search finds what was planted (so finding nothing afterwards means something).
    assert len(planted["file names"]) >= 5 and len(planted["file contents"]) >= 8
    assert planted["print jobs"] and planted["crontab"]
    assert planted["at jobs"] and planted["processes"], planted
    before = float(reset_status(pc).get("time", 0))
    resets_before = reset_evidence(pc)

    pc.run_expect([0], f"loginctl terminate-session {session}")
    new_session = wait_for_session(pc, not_this=session)

    status = reset_status(pc)
    assert float(status["time"]) > before, "the cleanup script did not run"
    assert status["home_matches_skeleton"] == "yes"
    assert status["processes_left"] == "0"
    assert int(status["print_jobs"]) >= 1 and status["crontabs"] == "1"
    assert int(status["at_jobs"]) >= 1 and int(status["tmp_entries"]) >= 3
    assert int(status["lightdm_entries"]) >= 1 and status["linger"] == "1"
    assert not pc.file(LINGER).exists
    started = pc.check_output(
        f"loginctl show-session {new_session} -p Timestamp --value | xargs -I{{}} date -d {{}} +%s")
    assert int(started) >= int(float(status["time"])), "the new session began before the reset"
    assert token_traces(pc) == {"file names": [], "file contents": [], "print jobs": [],
                                "crontab": "", "at jobs": [], "processes": []}
    # The reset's evidence for Prometheus: ok, one more ok reset, the counts of the status.
    evidence = reset_evidence(pc)
    assert evidence["libraryops_session_reset_ok"] == 1
    ok_total = 'libraryops_session_resets_total{result="ok"}'
    assert evidence[ok_total] == resets_before.get(ok_total, 0) + 1
    assert evidence['libraryops_session_reset_removed{kind="crontabs"}'] == 1
    assert evidence["libraryops_session_reset_processes_left"] == 0


def test_cleanup_with_an_empty_user_touches_nothing(pc):
    wait_for_session(pc)
    marker = f"/home/{PATRON}/Downloads/keep-me.txt"
    pc.run_expect([0], f"runuser -u {PATRON} -- touch {marker}")
    before = reset_status(pc).get("time")
    # LightDM calls the script with USER empty and HOME=/ when the greeter's login ends.
    pc.run_expect([0], f"env -i USER= HOME=/ PATH=/usr/bin:/bin {RESET}")
    assert pc.file(marker).exists
    assert reset_status(pc).get("time") == before
    assert patron_sessions(pc)


def test_cleanup_never_follows_a_symlinked_home(pc):
    precious = "/srv/libraryops-precious"
    pc.run_expect([0], "systemctl stop lightdm")
    try:
        # Stopping LightDM leaves the patron's user manager for logind's UserStopDelaySec (10 s)
        # and whatever else the session started: logind ends them all.
        pc.run(f"loginctl terminate-user {PATRON}")
        wait_for(lambda: pc.run(f"pgrep -u {PATRON}").rc == 1,
                 f"processes of {PATRON} still run after terminate-user")
        pc.run_expect([0], f"mkdir -p {precious} && echo keep > {precious}/keep.txt && "
                           f"rm -rf /home/{PATRON} && ln -s {precious} /home/{PATRON}")
        pc.run_expect([0], f"env USER={PATRON} HOME=/home/{PATRON} {RESET}")
        assert pc.file(f"{precious}/keep.txt").exists
        assert pc.file(f"/home/{PATRON}").is_directory
        assert not pc.file(f"/home/{PATRON}").is_symlink
        # A link inside the home is removed as a link; its target survives.
        pc.run_expect([0], f"ln -s {precious} /home/{PATRON}/Downloads/elsewhere")
        pc.run_expect([0], f"env USER={PATRON} HOME=/home/{PATRON} {RESET}")
        assert pc.file(f"{precious}/keep.txt").exists
        assert pc.run(f"diff -r --no-dereference {SKELETON} /home/{PATRON}").rc == 0
    finally:
        pc.run(f"rm -rf {precious}")
        pc.run_expect([0], "systemctl start lightdm")
    wait_for_session(pc)
