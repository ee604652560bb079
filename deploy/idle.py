"""Idle logout: a patron session idle for N minutes is warned, then ended (which resets it)."""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from deploy.defaults import DEFAULTS

TEMPLATES = Path(__file__).parent / "templates"
SCRIPT = "/usr/local/sbin/libraryops-idle-logout"
UNIT = "libraryops-idle-logout.service"
#: How often the watcher reads the X server's idle time (seconds).
CHECK_INTERVAL_SECONDS = 5


@deploy("Idle logout", data_defaults=DEFAULTS)
def idle_logout():
    """Install and start the root-run idle watcher.

    Inventory: ``public_pc__idle_logout_minutes`` (minutes without input before the session
    ends) and ``public_pc__idle_warning_seconds`` (seconds of on-screen warning before that).
    The watcher needs ``xprintidle`` and ``xmessage`` (installed by deploy/kiosk.py).
    """
    data = host.data
    script = files.template(
        name="Idle watcher script", src=str(TEMPLATES / "idle-logout.sh.j2"), dest=SCRIPT,
        mode="755", user="root", group="root", patron=data.public_pc__patron_user,
        idle_seconds=int(data.public_pc__idle_logout_minutes) * 60,
        warning_seconds=int(data.public_pc__idle_warning_seconds),
        interval_seconds=CHECK_INTERVAL_SECONDS,
    )
    unit = files.template(name="Idle watcher unit", src=str(TEMPLATES / "idle-logout.service.j2"),
                          dest=f"/etc/systemd/system/{UNIT}", mode="644", script=SCRIPT)
    systemd.daemon_reload(name="systemd: reload units", _if=unit.did_change)
    systemd.service(name="Idle watcher running and enabled", service=UNIT, running=True,
                    enabled=True)
    systemd.service(name="Idle watcher restarted for its new script", service=UNIT,
                    restarted=True, _if=any_changed(script, unit))
