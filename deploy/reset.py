"""Reset on logout: the patron's account goes back to a root-owned skeleton after every session.

LightDM runs :data:`CLEANUP_SCRIPT` as root when a session ends (``session-cleanup-script``,
set by deploy/kiosk.py). What it removes and why is in the script's comments
(templates/session-reset.sh.j2); it records its counts in :data:`STATUS_FILE` and the journal
(tag ``libraryops-session-reset``), never file names; when the PC runs the node exporter (role
node_exporter), also as Prometheus series in :data:`EVIDENCE_FILE` under its textfile directory
(the monitoring role alerts on a failed reset at once).
"""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from deploy.defaults import DEFAULTS
from deploy.packages import install
from libraryops.role_specs import role_default

TEMPLATES = Path(__file__).parent / "templates"
CLEANUP_SCRIPT = "/usr/local/sbin/libraryops-session-reset"
SKELETON = "/etc/libraryops/patron-skeleton"
#: One line ``time=<epoch seconds> key=value ...`` written by the last reset.
STATUS_FILE = "/var/lib/libraryops/session-reset.status"
#: The reset's Prometheus series, in the node exporter's textfile directory.
EVIDENCE_FILE = "libraryops_session_reset.prom"
#: Directories every fresh patron session starts with (empty).
SKELETON_DIRS = ("Desktop", "Downloads")
#: polkit rule refusing the patron ``loginctl enable-linger`` (templates/patron-linger.rules.j2).
LINGER_RULE = "/etc/polkit-1/rules.d/50-libraryops-patron-linger.rules"


def evidence_path(data, name: str) -> str:
    """Where a host's reset writes its Prometheus series: file ``name`` (:data:`EVIDENCE_FILE`)
    in the node exporter's textfile directory, the host's ``node_exporter__textfile_dir``
    (``data``: any mapping-like with ``get``, pyinfra's ``host.data`` or
    ``SiteInventory.hosts[host]``) or else the role node_exporter's default (its one owner)."""
    directory = (data.get("node_exporter__textfile_dir")
                 or role_default("node_exporter", "node_exporter__textfile_dir"))
    return f"{directory}/{name}"


@deploy("Reset on logout", data_defaults=DEFAULTS)
def session_reset():
    """Install the skeleton, the cleanup script (with the tools it calls: at, cron, CUPS) and the
    polkit rule that keeps the patron from enabling linger."""
    install("Reset tools (at, cron)", ["at", "cron"])
    files.directory(name="Patron skeleton (root-owned)", path=SKELETON, user="root",
                    group="root", mode="755")
    for name in SKELETON_DIRS:
        files.directory(name=f"Skeleton {name}/", path=f"{SKELETON}/{name}", user="root",
                        group="root", mode="755")
    files.template(
        name="Session cleanup script",
        src=str(TEMPLATES / "session-reset.sh.j2"), dest=CLEANUP_SCRIPT, mode="755",
        user="root", group="root",
        patron=host.data.public_pc__patron_user, skeleton=SKELETON, status_file=STATUS_FILE,
        evidence=evidence_path(host.data, EVIDENCE_FILE),
    )
    files.template(
        name="polkit: no linger for the patron",
        src=str(TEMPLATES / "patron-linger.rules.j2"), dest=LINGER_RULE, mode="644",
        user="root", group="root", patron=host.data.public_pc__patron_user,
    )
