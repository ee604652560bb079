"""Ansible filters over libraryops.hours: a branch's timers and closures file, as plain data.

Configured with ``filter_plugins = plugins/filter`` in ``ansible.cfg``. Each filter takes a host's
variables (``hostvars[inventory_hostname]``) and returns what :mod:`libraryops.hours` computes;
no hours logic lives here. Usage in a role::

    {% for timer in hostvars[inventory_hostname] | branch_timers %}...{% endfor %}
    content: "{{ hostvars[inventory_hostname] | branch_closures_file }}"
    updates__upgrade_on_calendar: "{{ hostvars[inventory_hostname] | branch_patch_calendar(20) }}"
"""

from ansible.errors import AnsibleFilterError
from pydantic import ValidationError

from libraryops.hours import BranchHours
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


def branch_timers(hostvars):
    """The branch's systemd timers: ``BranchHours.timer_plan()["timers"]`` (list of dicts:
    unit, event, description, on_calendar, exec_condition, day_offset).

    Raises:
        AnsibleFilterError: the hours do not validate.
    """
    return _hours(hostvars).timer_plan()["timers"]


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
                "branch_patch_calendar": branch_patch_calendar}
