"""The kiosk session: LightDM autologin into the patron account on a light Xfce desktop.

Why Xfce: of Debian 12's desktops it is the lightest complete one that LightDM starts as an
ordinary X session (162 packages without recommends, ~440 MiB per session in the lab), with a
panel menu where the accessibility tools appear; GNOME needs GDM and far more memory, and
LXQt pulled ~4x the download in the lab.
"""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from deploy.defaults import DEFAULTS
from deploy.packages import install
from deploy.reset import CLEANUP_SCRIPT

TEMPLATES = Path(__file__).parent / "templates"
LIGHTDM_DROPIN = "/etc/lightdm/lightdm.conf.d/50-libraryops.conf"
POLKIT_RULE = "/etc/polkit-1/rules.d/50-libraryops-patron-power.rules"
#: The X session LightDM starts (``/usr/share/xsessions/xfce.desktop``).
SESSION = "xfce"
#: Lab only (no VT in a container): pam_env(8) conffile forcing XDG_VTNR=0 so that logind
#: creates a session on the VT-less seat (lab-notes.md).
LAB_VTNR_CONF = "/etc/security/libraryops-lab-vtnr.conf"
_LAB_PAM = {
    "/etc/pam.d/lightdm": "^@include common-session",
    "/etc/pam.d/lightdm-autologin": "^@include common-session",
    "/etc/pam.d/lightdm-greeter": "^session.*pam_systemd.so",
}

DESKTOP_PACKAGES = [
    "lightdm", "lightdm-gtk-greeter", "xfce4-session", "xfwm4", "xfdesktop4", "xfce4-panel",
    "xfce4-settings", "thunar", "dbus-x11", "policykit-1", "x11-utils", "xprintidle",
]


@deploy("Kiosk session", data_defaults=DEFAULTS)
def kiosk_session():
    """Install the desktop and configure LightDM and polkit for the patron kiosk.

    Inventory: ``public_pc__patron_user``; ``public_pc__patron_can_power_off`` (bool, polkit
    rule for login1 power actions); ``public_pc__xserver_packages`` and
    ``public_pc__xserver_command`` (the lab uses Xvfb); ``public_pc__lab_no_vt`` (lab only:
    the pam_env XDG_VTNR override, because containers have no VTs).
    """
    data = host.data
    install("Kiosk desktop (LightDM + Xfce)",
            DESKTOP_PACKAGES + list(data.public_pc__xserver_packages))
    lightdm_conf = files.template(
        name="LightDM: patron autologin, hidden users, cleanup script",
        src=str(TEMPLATES / "lightdm.conf.j2"), dest=LIGHTDM_DROPIN, mode="644",
        patron=data.public_pc__patron_user, session=SESSION, cleanup_script=CLEANUP_SCRIPT,
        xserver_command=data.public_pc__xserver_command,
    )
    files.template(
        name="polkit: patron power actions",
        src=str(TEMPLATES / "patron-power.rules.j2"), dest=POLKIT_RULE, mode="644",
        patron=data.public_pc__patron_user, allowed=data.public_pc__patron_can_power_off,
    )
    _lab_no_vt(enabled=bool(data.public_pc__lab_no_vt))
    server.service(name="LightDM running and enabled", service="lightdm", running=True,
                   enabled=True)
    server.service(name="LightDM restarted for its new configuration", service="lightdm",
                   restarted=True, _if=lightdm_conf.did_change)


def _lab_no_vt(enabled: bool) -> None:
    if enabled:
        files.put(name="Lab: pam_env XDG_VTNR override", src=StringIO("XDG_VTNR OVERRIDE=0\n"),
                  dest=LAB_VTNR_CONF, mode="644")
    else:
        files.file(name="No lab pam_env XDG_VTNR override", path=LAB_VTNR_CONF, present=False)
    for pam_file, anchor in _LAB_PAM.items():
        files.block(
            name=f"Lab: XDG_VTNR override in {pam_file}",
            path=pam_file, before=True, line=anchor, present=enabled,
            marker="# {mark} libraryops lab: no VTs in containers",
            content=f"session optional pam_env.so readenv=0 conffile={LAB_VTNR_CONF}",
        )
