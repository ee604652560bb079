"""``make validate`` for the update schedule (role updates): each bad input is named by file
and key, and a fixed reboot time stays inside every opening day's patch window.
"""

import pytest
from sites import UPDATES, edit, write

BAD = {
    "download delay over half a branch's patch window": (  # east: 60 minutes, main: 120
        lambda s: edit(s, UPDATES, "delay_minutes: 20", "delay_minutes: 45"),
        [(UPDATES, "updates__download_randomized_delay_minutes", "leaves less than half of "
          "Riverton East Branch's 60-minute patch window for installing and rebooting "
          "(allowed: 0-30 (half of")]),
    "update schedule left to the role's night-time defaults": (
        lambda s: write(s, UPDATES, "---\nupdates__automatic_reboot: true\n"),
        [(UPDATES, key, "missing") for key in (
            "updates__download_on_calendar", "updates__upgrade_on_calendar",
            "updates__reboot_time", "updates__catch_up_missed_runs")]),
    "reboot time outside the patch window": (  # main closes 17:00-21:00, east 17:00-20:00
        lambda s: edit(s, UPDATES, "reboot_time: now", 'reboot_time: "12:00"'),
        [(UPDATES, "updates__reboot_time", "outside Riverton East Branch's patch window on "
          "monday, tuesday, wednesday, thursday, friday, saturday: the reboot would not happen "
          "while the building is closed"),
         (UPDATES, "updates__reboot_time", "outside Riverton Main Library's patch window on ")]),
    "download delay negative": (
        lambda s: edit(s, UPDATES, "delay_minutes: 20", "delay_minutes: -5"),
        [(UPDATES, "updates__download_randomized_delay_minutes", "greater than or equal to 0")]),
    "reboot time neither HH:MM nor now": (
        lambda s: edit(s, UPDATES, "reboot_time: now", "reboot_time: \"09:60\""),
        [(UPDATES, "updates__reboot_time", "should match pattern")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_update_schedule(case, example, bad_input):
    bad_input(example, BAD[case])


@pytest.mark.parametrize(("closing", "reboot_time", "ok"), [
    ("20:00", "20:30", True), ("20:00", "21:44", True),  # window 20:15-21:45, Monday-Saturday
    ("20:00", "20:14", False), ("20:00", "21:45", False), ("20:00", "03:00", False),
    ("23:00", "00:20", True), ("23:00", "23:10", False)])  # window 23:15-00:45, past midnight
def test_a_fixed_reboot_time_must_be_inside_every_opening_days_patch_window(
        closing, reboot_time, ok):
    from pydantic import ValidationError

    from libraryops.hours import WEEKDAYS
    from libraryops.validation.updates import UpdatesModel

    hostvars = {
        "branch__timezone": "America/New_York",
        "branch__hours": {day: [["09:00", closing]] for day in WEEKDAYS[:6]} | {"sunday": []},
        "branch__wake_lead_minutes": 30, "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90, "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 120, "updates__automatic_reboot": True,
        "updates__download_on_calendar": ["*-*-* 20:15"],
        "updates__upgrade_on_calendar": ["*-*-* 20:35"],
        "updates__catch_up_missed_runs": False, "updates__reboot_time": reboot_time}
    if ok:
        UpdatesModel.model_validate(hostvars, context=hostvars)
    else:
        with pytest.raises(ValidationError, match="outside the branch's patch window on monday, "
                                                  "tuesday, wednesday, thursday, friday, "
                                                  "saturday:"):
            UpdatesModel.model_validate(hostvars, context=hostvars)
