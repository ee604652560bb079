"""Ansible callback: write each host's recap (ok/changed/failed/unreachable) as JSON.

Enabled in ansible.cfg; writes only when ``LIBRARYOPS_ANSIBLE_STATS`` names a file, so plain
``ansible-playbook`` runs are unaffected. ``libraryops.report`` reads the file for the per-host
summary and the zero-changes check, and ``libraryops.hoststate`` for what became of each host,
instead of parsing Ansible's human output. Besides the recap, a host that failed gets
``failed_task`` and ``failed_msg`` (its first unignored failure: the task's name and the first
line of the module's message; Ansible has already replaced a ``no_log`` task's result with its
"output has been hidden" notice), and an unreachable host ``unreachable_msg``; the pipeline
redacts the site's secrets before printing them.
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._why: dict[str, dict[str, str]] = {}

    def _first_line(self, result) -> str:
        data = result._result
        text = data.get("msg") or data.get("stderr") or data.get("censored") or ""
        return str(text).strip().splitlines()[0][:300] if str(text).strip() else ""

    def v2_runner_on_failed(self, result, ignore_errors=False):
        """Remember a host's first failure that was not ignored."""
        if not ignore_errors:
            self._why.setdefault(result._host.get_name(), {
                "failed_task": result._task.get_name(), "failed_msg": self._first_line(result)})

    def v2_runner_on_unreachable(self, result):
        """Remember why a host could not be reached."""
        self._why.setdefault(result._host.get_name(),
                             {"unreachable_msg": self._first_line(result)})

    def v2_playbook_on_stats(self, stats):
        """Dump ``stats.summarize(host)`` (and the failure notes) for every host touched."""
        path = os.environ.get("LIBRARYOPS_ANSIBLE_STATS")
        if not path:
            return
        recap = {host: {**stats.summarize(host), **self._why.get(host, {})}
                 for host in sorted(set(stats.processed) | set(self._why))}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(recap, handle, indent=2, sort_keys=True)
