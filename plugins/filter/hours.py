"""Ansible filters over libraryops.hours: a branch's timers and closures file, as plain data.

Configured with ``filter_plugins = plugins/filter`` in ``ansible.cfg``. Each filter takes a host's
variables (``hostvars[inventory_hostname]``) and returns what :mod:`libraryops.hours` computes;
no hours logic lives here. Usage in a role::

    {% for timer in hostvars[inventory_hostname] | branch_timers %}...{% endfor %}
    content: "{{ hostvars[inventory_hostname] | branch_closures_file }}"
    updates__upgrade_on_calendar: "{{ hostvars[inventory_hostname] | branch_patch_calendar(20) }}"
    {% for branch in groups | branch_state_plan(hostvars, '/etc/libraryops/monitoring') %}
"""

import datetime as dt

from ansible.errors import AnsibleFilterError
from pydantic import ValidationError

from libraryops.hours import BranchHours
from libraryops.hours_values import BRANCH_STATES, CLOSURES_PATH
from libraryops.inventory import BRANCH_GROUP, BRANCH_PREFIX
from libraryops.plain import plain


def _hours(hostvars):
    """The branch's hours from a host's variables; a validation error as a filter error."""
    keys = BranchHours.model_fields
    try:
        return BranchHours.from_vars({k: plain(hostvars[k]) for k in keys if k in hostvars})
    except ValidationError as exc:
        where = "; ".join(".".join(map(str, e["loc"])) for e in exc.errors(include_url=False))
        raise AnsibleFilterError(
            f"branch hours do not validate ({where}): run make validate") from None


def branch_timers(hostvars, closures_path=CLOSURES_PATH):
    """The branch's systemd timers: ``BranchHours.timer_plan(closures_path)["timers"]`` (list
    of dicts: unit, event, description, on_calendar, exec_condition, day_offset); the weekday
    timers' conditions read ``closures_path`` (str).

    Raises:
        AnsibleFilterError: the hours do not validate.
    """
    return _hours(hostvars).timer_plan(str(closures_path))["timers"]


def branch_state_plan(groups, hostvars, directory):
    """What the monitoring host publishes for every branch of the site (role monitoring).

    Args:
        groups: Ansible's ``groups`` (group -> host names); each ``branch_<slug>`` group with a
            host is a branch, its hours read from its first host.
        hostvars: Ansible's ``hostvars``.
        directory: where the branches' closures files go on the monitoring host.

    Returns:
        A list, one dict per branch sorted by slug: ``slug``, ``closures_path``, ``closures``
        (the file's content), ``state`` (``BranchHours.state`` now, by the real clock: the
        state to publish where none is yet), ``states``
        (every state, ``libraryops.hours_values.BRANCH_STATES``) and ``timers``
        (``BranchHours.state_timers``), each with its ``unit`` renamed
        ``libraryops-state-<slug>-<event stem>`` and the ``branch`` (slug) added.

    Raises:
        AnsibleFilterError: a branch's hours do not validate.
    """
    plan = []
    for group in sorted(g for g in groups if BRANCH_GROUP.fullmatch(g) and groups[g]):
        slug = group.removeprefix(BRANCH_PREFIX)
        hours = _hours(hostvars[groups[group][0]])
        path = f"{directory}/closures-{slug}"
        timers = [{**timer, "branch": slug,
                   "unit": timer["unit"].replace("libraryops-", f"libraryops-state-{slug}-", 1)}
                  for timer in hours.state_timers(path)]
        # The real clock, not LIBRARYOPS_NOW: the seed is what Prometheus shows until the
        # branch's next event, whatever instant a run is planned "as of".
        state = hours.state(dt.datetime.now(dt.UTC))
        plan.append({"slug": slug, "closures_path": path, "closures": hours.closures_file(),
                     "state": state, "states": list(BRANCH_STATES), "timers": timers})
    return plan


def branch_closures_file(hostvars):
    """The content of the branch's closures file (``/etc/libraryops/closures``), a string.

    Raises:
        AnsibleFilterError: the hours do not validate.
    """
    return _hours(hostvars).closures_file()


def branch_patch_calendar(hostvars, after_minutes=0):
    """``BranchHours.patch_calendar(after_minutes)``: the ``OnCalendar=`` expressions (list of
    str) firing ``after_minutes`` (int) into the branch's patch window on every opening day.

    Raises:
        AnsibleFilterError: the hours do not validate, or ``after_minutes`` is outside the window.
    """
    try:
        return _hours(hostvars).patch_calendar(int(after_minutes))
    except ValueError as exc:
        raise AnsibleFilterError(f"branch_patch_calendar: {exc}") from None


class FilterModule:
    """Ansible's entry point: the filters of this file."""

    def filters(self):
        """Filter name -> function."""
        return {"branch_timers": branch_timers, "branch_closures_file": branch_closures_file,
                "branch_patch_calendar": branch_patch_calendar,
                "branch_state_plan": branch_state_plan}
