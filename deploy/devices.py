"""Devices on public PCs: USB storage policy, the branch's print-release queue, accessibility.

USB enforcement (udev) is verified on hardware only: lab hosts are containers with no udev
devices, so the lab proves the rule's rendering and presence, not its effect.
"""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server
from pyinfra.operations.util import any_changed

from deploy.defaults import DEFAULTS
from deploy.facts import CupsDefaultQueue, CupsQueues
from deploy.packages import install

TEMPLATES = Path(__file__).parent / "templates"
USB_RULE = "/etc/udev/rules.d/90-libraryops-usb-storage.rules"
#: USB storage policies the inventory may choose.
USB_POLICIES = ("allowed", "blocked")
#: On-screen keyboard, screen magnifier, screen reader: each installs a menu entry
#: (/usr/share/applications/<name>.desktop).
ACCESSIBILITY_PACKAGES = ["onboard", "magnus", "orca"]
#: cupsd.conf(5) settings for privacy: no job history or document files kept after a job.
_CUPSD_PRIVACY = {"PreserveJobHistory": "No", "PreserveJobFiles": "No"}


@deploy("USB storage policy", data_defaults=DEFAULTS)
def usb_storage():
    """``public_pc__usb_storage``: ``allowed`` (the reset wipes what patrons copy to home) or
    ``blocked`` (a udev rule de-authorizes USB mass-storage interfaces)."""
    if host.data.public_pc__usb_storage == "blocked":
        files.template(name="udev: block USB mass storage", dest=USB_RULE, mode="644",
                       src=str(TEMPLATES / "usb-storage.rules.j2"))
    else:
        files.file(name="udev: USB mass storage allowed (no rule)", path=USB_RULE,
                   present=False)


@deploy("Print release queue", data_defaults=DEFAULTS)
def print_queue():
    """CUPS with the branch's print-release queue as the default destination.

    Inventory: ``branch__print_queue_uri`` (ipp:// or ipps:// of the release station; in the
    lab, ippeveprinter on the bridge) and ``public_pc__print_queue_name``. The queue is an IPP
    Everywhere queue (``lpadmin -m everywhere``, lpadmin(8)), so the printer must answer when
    the queue is first created. CUPS keeps no job history or files (privacy).
    """
    name = host.data.public_pc__print_queue_name
    uri = host.data.branch__print_queue_uri
    install("CUPS", ["cups", "cups-client", "cups-ipp-utils"])
    changed = [
        files.line(name=f"cupsd.conf: {key} {value}", path="/etc/cups/cupsd.conf",
                   line=f"^{key} ", replace=f"{key} {value}")
        for key, value in _CUPSD_PRIVACY.items()
    ]
    server.service(name="CUPS running", service="cups", running=True, enabled=True)
    server.service(name="CUPS restarted for its new settings", service="cups", restarted=True,
                   _if=any_changed(*changed))
    if host.get_fact(CupsQueues).get(name) != uri:
        server.shell(name=f"CUPS queue {name} -> release station",
                     commands=[f"lpadmin -p {name} -E -v {uri} -m everywhere"])
    if host.get_fact(CupsDefaultQueue) != name:
        server.shell(name=f"CUPS default destination {name}", commands=[f"lpadmin -d {name}"])


@deploy("Accessibility tools")
def accessibility():
    """On-screen keyboard (onboard), screen magnifier (magnus), screen reader (orca), each in
    the desktop menu (orca gets the menu entry its package lacks)."""
    install("Accessibility tools", ACCESSIBILITY_PACKAGES)
    files.template(name="Menu entry: screen reader", src=str(TEMPLATES / "orca.desktop.j2"),
                   dest="/usr/local/share/applications/orca.desktop", mode="644",
                   create_remote_dir=True)
