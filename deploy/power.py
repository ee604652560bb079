"""Power schedule of public PCs: warn the patron, power off after closing, wake before opening.

Everything here is rendered from the branch's :meth:`libraryops.hours.BranchHours.timer_plan`
(the one hours model; this deploy has no hours logic of its own) and from the inventory only,
never from today's date, so a second converge changes nothing:

- the closures file (``plan["closures_path"]``, ``/etc/libraryops/closures``): one local
  ``YYYY-MM-DD`` per line;
- one ``.timer`` + ``.service`` pair per timer of the plan whose event is ``wake``, ``warn`` or
  ``shutdown`` (``libraryops-wake``, ``libraryops-shutdown-warning``, ``libraryops-shutdown``,
  with the plan's ``-before-midnight`` / ``-after-midnight`` / ``-dated`` variants): the timer has
  the plan's ``OnCalendar=`` expressions (``man systemd.time``; they carry the branch's time zone,
  so the host's own zone does not matter), ``Persistent=false`` (a PC that was off at closing
  time must not shut down when it is switched on the next morning) and ``AccuracySec=1s``; the
  service has the plan's ``ExecCondition=`` (weekday timers: skip when the opening day is listed
  in the closures file; dated timers: none) and runs :data:`SCRIPT` with one action:

  ``warn``
      an on-screen message (``xmessage``) on the patron's X display, for the warning minutes
      (``branch__shutdown_warning_minutes``), and a journal line;
  ``shutdown``
      ``set-wake``, then ``systemctl poweroff``;
  ``set-wake`` (also the wake timers' action: at each wake time the PC re-arms the next one, so
      a PC switched off by hand during the day still wakes the next opening day)
      computes the next wake and sets the RTC alarm: ``rtcwake -m no -t <epoch>`` (``man
      rtcwake``: mode ``no`` sets the alarm without suspending; ``-t`` is seconds since the
      epoch; the RTC's UTC/local mode is read from /etc/adjtime, rtcwake's default ``--auto``).

**How the next wake is computed, on the host** (``libraryops-power next-wake [EPOCH]`` prints
it): for each wake timer, its own ``OnCalendar=`` expressions as systemd has loaded them
(``systemctl show -P TimersCalendar <unit>.timer``) are expanded by ``systemd-analyze calendar
--base-time=@<now> --iterations=<closure lines + 1>``; an instant of a weekday timer is dropped
when its opening day (the local date in the branch's zone, shifted by the timer's day offset)
is listed in the closures file, which is exactly the test its ``ExecCondition=`` makes when it
fires; the earliest instant left wins. One expression fires at most once per local date, so
``closure lines + 1`` iterations always reach an instant that is not on a closure date.

**Firmware requirement** (real PCs): the PCs wake themselves, without Wake-on-LAN, only when
the firmware lets the RTC alarm power the machine on from soft-off (S5): in firmware setup
enable "Resume by RTC alarm" / "Power on by RTC" / "Wake on RTC" (names vary) *without* a fixed
time of its own (the OS sets it), and disable ErP/EuP "deep sleep", which cuts the RTC wake on
many boards. The alarm must also reach past a weekend: some RTCs only hold an alarm up to 24 h
ahead (``man rtcwake``); ``rtcwake -m show`` reads the alarm back after a shutdown. When the
alarm cannot be set the journal says so at priority ``err`` and the PC still powers off.

**Inventory**: ``public_pc__power_actions``: ``act`` (default) or ``log``: in ``log`` mode (the
lab, ``inventories/lab/group_vars/public_pcs/lab_kiosk.yml``) ``shutdown`` and ``set-wake`` only
log what they would do (``journalctl -t libraryops-power``), so a test run at the lab branch's
closing time never powers hosts off; the warning is still shown. Where there is no RTC
(``/dev/rtc0`` missing, as in the lab's containers) ``set-wake`` says so in the journal and exits
0. ``public_pc__patron_user``: whose session is warned. The ``branch__*`` hours keys: see
:mod:`libraryops.hours`.

Units of these three events that the plan no longer has (the hours changed) are stopped,
disabled and removed. The power script needs ``xmessage`` (x11-utils, deploy/kiosk.py) and
``rtcwake`` (util-linux, essential).

Cost of a no-op converge: the files are rendered locally (pyinfra's Jinja environment, as
``files.template``) and compared with one fact (:class:`PowerFiles`: SHA-1, mode and owner of
every file) instead of two or three facts per ``files.template``; on the lab's two public PCs
this deploy alone took ~+2.7 s per no-op run with 15 ``files.template`` operations and ~+0.8 s
this way. The timers' state is one fact too (:class:`UnitStates`), which also treats a timer
whose dates have all passed (``active (elapsed)``) as started, where ``systemd.service`` would
start it again on every run.
"""

from hashlib import sha1
from io import StringIO
from pathlib import Path, PurePosixPath

from pyinfra import host
from pyinfra.api import FactBase, FileUploadCommand, QuoteString, StringCommand, deploy, operation
from pyinfra.api.util import get_template
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from deploy.defaults import DEFAULTS
from libraryops.hours import BranchHours
from libraryops.hours_values import CLOSURES_PATH, EVENTS, OFFSET_SUFFIX

TEMPLATES = Path(__file__).parent / "templates"
SCRIPT = "/usr/local/sbin/libraryops-power"
UNIT_DIR = "/etc/systemd/system"
#: Plan event -> the :data:`SCRIPT` action its service runs.
ACTIONS = {"wake": "set-wake", "warn": "warn", "shutdown": "shutdown"}
#: Every unit name (without suffix) this deploy may have rendered: the stale-unit sweep
#: removes those not in the current plan, and never touches other libraryops units.
MANAGED_UNITS = frozenset(
    f"libraryops-{EVENTS[event][0]}{suffix}"
    for event in ACTIONS for suffix in (*OFFSET_SUFFIX.values(), "-dated"))


class PowerFiles(FactBase):
    """The files this deploy may manage, as they are on the host.

    Returns ``{path: (sha1 hex, octal mode, "user:group")}`` for :data:`SCRIPT`,
    :data:`libraryops.hours_values.CLOSURES_PATH` and every regular file
    ``/etc/systemd/system/libraryops-*`` (other libraryops units are listed too, and never
    changed); missing files are absent.
    """

    default = dict

    def command(self) -> str:
        """Shell command run on the host (one for all files)."""
        return (f"for p in {SCRIPT} {CLOSURES_PATH} {UNIT_DIR}/libraryops-*; do "
                '[ -f "$p" ] && [ ! -L "$p" ] && '
                'echo "$(sha1sum < "$p" | cut -c1-40) $(stat -c %a:%U:%G "$p") $p"; done; true')

    def process(self, output):
        """Parse ``<sha1> <mode>:<user>:<group> <path>`` lines."""
        found = {}
        for line in output:
            digest, owner, path = line.split(" ", 2)
            mode, _, user_group = owner.partition(":")
            found[path] = (digest, mode, user_group)
        return found


class UnitStates(FactBase):
    """``{unit: (ActiveState, UnitFileState)}`` of the given units, from ``systemctl show``.

    A timer whose every ``OnCalendar=`` date has passed is ``active`` (sub-state ``elapsed``),
    which pyinfra's ``SystemdStatus`` fact counts as not running; this fact does not.
    """

    default = dict

    def command(self, units: list[str]) -> StringCommand:
        """Shell command run on the host."""
        return StringCommand("systemctl", "show", "-p", "Id", "-p", "ActiveState",
                             "-p", "UnitFileState", "--", *[QuoteString(u) for u in units])

    def process(self, output):
        """Parse ``Key=value`` blocks (one per unit, separated by empty lines)."""
        states, current = {}, {}
        for line in [*output, ""]:
            if line.strip():
                key, _, value = line.partition("=")
                current[key] = value
            elif current:
                states[current.get("Id", "")] = (current.get("ActiveState", ""),
                                                 current.get("UnitFileState", ""))
                current = {}
        return states


@operation()
def rendered_files(contents: dict[str, str], mode: str):
    """Files with exactly this content, owned by root:root with ``mode``.

    + contents: ``{absolute path: text}``, uploaded as UTF-8 when the host's SHA-1, mode or owner
      (fact :class:`PowerFiles`) differs; the parent directory is created when missing
    + mode: octal permission bits, e.g. ``"644"``
    """
    present = host.get_fact(PowerFiles)
    unchanged = True
    for path, text in contents.items():
        if present.get(path) == (sha1(text.encode()).hexdigest(), mode, "root:root"):
            continue
        unchanged = False
        parent = str(PurePosixPath(path).parent)
        yield StringCommand("mkdir", "-p", "-m", "755", QuoteString(parent))
        yield FileUploadCommand(StringIO(text), path,
                                remote_temp_filename=host.get_temp_filename(path))
        yield StringCommand("chown", "root:root", QuoteString(path))
        yield StringCommand("chmod", mode, QuoteString(path))
    if unchanged:
        host.noop(f"{len(contents)} file(s) up to date")


@operation()
def timers_enabled_and_active(units: list[str]):
    """Enable and start the timer units that are not (``active`` includes ``elapsed``).

    + units: timer unit names (``*.timer``)
    """
    states = host.get_fact(UnitStates, units=units)
    to_enable = [u for u in units if states.get(u, ("", ""))[1] != "enabled"]
    to_start = [u for u in units if states.get(u, ("", ""))[0] != "active"]
    if to_enable:
        yield StringCommand("systemctl", "enable", *[QuoteString(u) for u in to_enable])
    if to_start:
        yield StringCommand("systemctl", "start", *[QuoteString(u) for u in to_start])
    if not to_enable and not to_start:
        host.noop("the power timers are enabled and active")


@operation(is_idempotent=False)
def timers_restarted(units: list[str]):
    """Restart timer units (recompute their next elapse from the new unit files).

    + units: timer unit names (``*.timer``)
    """
    yield StringCommand("systemctl", "restart", *[QuoteString(u) for u in units])


def _render(template: str, **context) -> str:
    """A template of deploy/templates rendered as ``files.template`` would (pyinfra's Jinja
    environment: StrictUndefined, trailing newline kept)."""
    return get_template(str(TEMPLATES / template)).render(**context)


def render_script(hours: BranchHours, actions: str, patron: str) -> str:
    """The text of :data:`SCRIPT` for a branch (templates/power.sh.j2).

    Args:
        hours: the branch's hours; only inventory data reaches the script: the time zone, the
            closures file's path, the warning minutes and, per wake timer of the plan, its unit
            name, day offset and whether its ExecCondition checks the closures file.
        actions: ``act`` or ``log`` (``public_pc__power_actions``).
        patron: the patron's user name (``public_pc__patron_user``).
    """
    plan = hours.timer_plan()
    return _render(
        "power.sh.j2", actions=actions, patron=patron, zone=hours.branch__timezone,
        closures_path=plan["closures_path"],
        warning_minutes=hours.branch__shutdown_warning_minutes,
        wake_timers=[(t["unit"], t["day_offset"] or 0, t["exec_condition"] is not None)
                     for t in plan["timers"] if t["event"] == "wake"])


@deploy("Power schedule", data_defaults=DEFAULTS)
def power_schedule():
    """Render the closures file, the power script and the wake/warn/shutdown timers.

    Reads the branch's hours from ``host.data`` (:meth:`BranchHours.from_vars`; ``make
    validate`` has checked them), ``public_pc__power_actions`` (``act`` or ``log``) and
    ``public_pc__patron_user``. See the module docstring for what runs when.
    """
    data = host.data
    hours = BranchHours.from_vars(data.dict())
    plan = hours.timer_plan()
    timers = [t for t in plan["timers"] if t["event"] in ACTIONS]
    warning_minutes = hours.branch__shutdown_warning_minutes

    rendered_files(name="Closures file (dates the weekday timers skip)", mode="644", contents={
        plan["closures_path"]: plan["closures"],
    })
    rendered_files(name="Power script (warn, shutdown, set-wake, next-wake)", mode="755",
                   contents={SCRIPT: render_script(hours, data.public_pc__power_actions,
                                                   data.public_pc__patron_user)})
    services = rendered_files(name="Power services", mode="644", contents={
        f"{UNIT_DIR}/{t['unit']}.service": _render(
            "power.service.j2", timer=t, script=SCRIPT, action=ACTIONS[t["event"]],
            warning_minutes=warning_minutes)
        for t in timers})
    timer_files = rendered_files(name="Power timers", mode="644", contents={
        f"{UNIT_DIR}/{t['unit']}.timer": _render("power.timer.j2", timer=t) for t in timers})
    removed = _remove_stale_units({t["unit"] for t in timers})

    systemd.daemon_reload(name="systemd: reload units",
                          _if=any_changed(services, timer_files, *removed))
    names = [f"{t['unit']}.timer" for t in timers]
    timers_restarted(name="Power timers restarted for their new schedule", units=names,
                     _if=timer_files.did_change)
    timers_enabled_and_active(name="Power timers enabled and active", units=names)


def _remove_stale_units(wanted: set[str]) -> list:
    """Stop, disable and delete this deploy's units that are not in ``wanted``; the file
    operations (for the daemon reload)."""
    present = {PurePosixPath(p).stem for p in host.get_fact(PowerFiles)
               if p.startswith(f"{UNIT_DIR}/")}
    removed = []
    for unit in sorted(present & MANAGED_UNITS - wanted):
        systemd.service(name=f"Stale {unit}.timer stopped and disabled", service=f"{unit}.timer",
                        running=False, enabled=False)
        for kind in ("timer", "service"):
            removed.append(files.file(name=f"Stale {unit}.{kind} removed",
                                      path=f"{UNIT_DIR}/{unit}.{kind}", present=False))
    return removed
