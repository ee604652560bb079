"""Ansible callback: write each host's recap (ok/changed/failed/unreachable) as JSON.

Enabled in ansible.cfg; writes only when ``LIBRARYOPS_ANSIBLE_STATS`` names a file, so plain
``ansible-playbook`` runs are unaffected. ``libraryops.report`` reads the file for the per-host
summary and the zero-changes check, instead of parsing Ansible's human output.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: libraryops_stats
type: aggregate
short_description: write the per-host play recap to the JSON file in LIBRARYOPS_ANSIBLE_STATS
description:
  - Writes the recap of each host (ok, changed, failures, unreachable, skipped, rescued,
    ignored) as a JSON object keyed by host name.
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    """Write ``{host: {ok, changed, failures, unreachable, ...}}`` when the playbook ends."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "libraryops_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        """Dump ``stats.summarize(host)`` for every host the playbook touched."""
        path = os.environ.get("LIBRARYOPS_ANSIBLE_STATS")
        if not path:
            return
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(recap, handle, indent=2, sort_keys=True)
