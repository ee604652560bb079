"""The update schedule (role updates), set explicitly by a site and kept inside the branch's patch
window.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from libraryops.hours import BranchHours
from libraryops.validation.base import fail, model_checker

_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
#: OnCalendar= expressions: a list of them, or one Jinja expression yielding it (the shipped
#: sites' ``branch_patch_calendar`` filter), checked by systemd-analyze on the host.
Calendar = Annotated[str, Field(strict=True, min_length=1)] | Annotated[
    list[Annotated[str, Field(strict=True, min_length=1)]], Field(min_length=1)]


class UpdatesModel(BaseModel):
    """The update schedule (role updates), which a site sets explicitly (the role's defaults are
    fixed night times, not the branch's patch window); the calendar expressions are checked on
    the host by ``systemd-analyze calendar`` before they are installed. The upgrade starts at
    most ``updates__download_randomized_delay_minutes`` into the branch's patch window: that
    delay may take at most half the window, leaving the rest for installing and rebooting. A
    reboot at a fixed time must fall inside the patch window of every opening weekday."""

    updates__download_on_calendar: Calendar = Field(
        description="OnCalendar= expressions, normally the patch window's "
                    "(see inventories/example/group_vars/all/updates.yml)")
    updates__upgrade_on_calendar: Calendar = Field(
        description="OnCalendar= expressions, normally the patch window's "
                    "(see inventories/example/group_vars/all/updates.yml)")
    updates__reboot_time: Annotated[str, Field(strict=True, pattern=f"^(now|{_TIME.pattern})$")] \
        = Field(description='now (when the upgrade run ends), or a local time "HH:MM" inside '
                            "every opening day's patch window")
    updates__catch_up_missed_runs: bool = Field(strict=True, description="true or false")
    updates__automatic_reboot: bool | None = Field(None, strict=True, description="true or false")
    updates__download_randomized_delay_minutes: int | None = Field(
        None, strict=True, ge=0, le=240, description="whole minutes, 0-240, at most half of "
                                                     "branch__patch_window_minutes")

    @field_validator("updates__download_randomized_delay_minutes")
    @classmethod
    def _inside_patch_window(cls, delay: int | None, info: ValidationInfo) -> int | None:
        context = info.context or {}
        hours = _valid_hours(context)
        window = hours.branch__patch_window_minutes if hours else None
        if delay is not None and window is not None and delay > window // 2:
            raise fail("patch_window", f"leaves less than half of {_branch(context)}'s "
                                        f"{window}-minute patch window for installing and "
                                        "rebooting",
                        allowed=f"0-{window // 2} (half of branch__patch_window_minutes)")
        return delay

    @field_validator("updates__reboot_time")
    @classmethod
    def _reboot_in_patch_window(cls, value: str, info: ValidationInfo) -> str:
        context = info.context or {}
        if value == "now" or context.get("updates__automatic_reboot") is False:
            return value
        hours = _valid_hours(context)
        if hours is None:
            return value
        windows = hours.patch_windows()
        hour, minute = map(int, value.split(":"))
        at = hour * 60 + minute
        outside = [day for day, (start, end) in windows.items()
                   if not (start <= at < end or start <= at + 1440 < end)]
        if outside:
            raise fail("patch_window", f"outside {_branch(context)}'s patch window on "
                                        f"{', '.join(outside)}: the reboot would not happen "
                                        "while the building is closed and the PCs are on",
                        allowed='now, or a time inside every opening day\'s patch window')
        return value


def _valid_hours(context: dict) -> BranchHours | None:
    """The host's branch hours, or None when they do not validate (check_hours reports them:
    a cross-check against them would only repeat the problem)."""
    try:
        return BranchHours.from_vars(context)
    except ValidationError:
        return None


def _branch(context: dict) -> str:
    return str(context.get("branch__name") or "the branch")



check_updates = model_checker(UpdatesModel, "updates.yml")
