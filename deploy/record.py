"""The commit this deploy converged a public PC from, recorded on the PC.

``/var/lib/libraryops/converged/pyinfra.json`` (``{"commit": ..., "since": ...}``, root 0644),
beside the Ansible baseline's ``ansible.json`` (role ``converged``; the format is the same). Run
last in deploy/public_pc.py: pyinfra stops running a host's operations at its first error, so a
PC that gets here converged cleanly. Rewritten only when the commit changes, so a second deploy
changes nothing. The commit comes from ``LIBRARYOPS_COMMIT`` (the pipeline exports
:func:`libraryops.revision.current`); without it nothing is recorded.
"""

import datetime as dt
import json
import os
from io import StringIO

from pyinfra import host
from pyinfra.api import FactBase, deploy
from pyinfra.operations import files

from libraryops.revision import COMMIT_ENV

RECORD = "/var/lib/libraryops/converged/pyinfra.json"


class ConvergedRecord(FactBase):
    """The PC's pyinfra record as a dict (``{}`` when missing or unreadable)."""

    default = dict

    def command(self) -> str:
        """Shell command run on the host."""
        return f"cat {RECORD} 2>/dev/null || true"

    def process(self, output):
        """Parse the JSON record."""
        try:
            data = json.loads("\n".join(output) or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


@deploy("Converged record")
def converged_record():
    """Record the commit of this run on the PC when it differs from the recorded one."""
    commit = os.environ.get(COMMIT_ENV, "")
    if not commit or host.get_fact(ConvergedRecord).get("commit") == commit:
        return
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    files.put(name="Record the commit this PC now runs",
              src=StringIO(json.dumps({"commit": commit, "since": since}) + "\n"),
              dest=RECORD, user="root", group="root", mode="644")
