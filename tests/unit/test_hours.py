"""libraryops.hours: open now, next opening/closing, closed windows and events, at fixed instants.

Concrete dates in America/New_York (spring forward 2027-03-14 02:00 -> 03:00, fall back
2027-11-07 02:00 -> 01:00) and Europe/Copenhagen (2027-03-28 02:00 -> 03:00). Instants are
compared in UTC, so a wrong offset or a wrong fold cannot compare equal by wall clock.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from libraryops.hours import BranchHours
from libraryops.hours_table import instant_text, intervals_text
from libraryops.hours_values import WEEKDAYS, Event

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
CPH = ZoneInfo("Europe/Copenhagen")

LAB_WEEK = {
    "monday": [["09:00", "20:00"]],
    "tuesday": [["09:00", "20:00"]],
    "wednesday": [["12:00", "20:00"]],
    "thursday": [["09:00", "20:00"]],
    "friday": [["09:00", "18:00"]],
    "saturday": [["10:00", "17:00"]],
    "sunday": [],
}
LAB_CLOSURES = [
    {"date": "2027-12-24", "hours": [["09:00", "13:00"]], "reason": "Christmas Eve"},
    {"date": "2027-12-25", "reason": "Christmas Day"},
]


def branch(week=None, closures=(), timezone="America/New_York", **minutes) -> BranchHours:
    """A branch closed every day unless ``week`` says otherwise; minutes as the lab's."""
    data = {
        "branch__timezone": timezone,
        "branch__hours": {day: [] for day in WEEKDAYS} | (week or {}),
        "branch__closures": list(closures),
        "branch__wake_lead_minutes": 30,
        "branch__patch_delay_minutes": 15,
        "branch__patch_window_minutes": 90,
        "branch__shutdown_warning_minutes": 10,
        "branch__shutdown_grace_minutes": 120,
    }
    data.update({f"branch__{key}": value for key, value in minutes.items()})
    return BranchHours.from_vars(data)


LAB = branch(LAB_WEEK, LAB_CLOSURES)


def ny(*args) -> dt.datetime:
    """A New York wall time (fold=0) as a UTC instant."""
    return dt.datetime(*args, tzinfo=NY).astimezone(UTC)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- the model ---------------------------------------------------------------------------------


def test_from_vars_reads_only_the_hours_keys_and_sorts_a_day():
    hours = branch({"friday": [["14:00", "18:00"], ["10:00", "13:00"]]},
                   unrelated__key="ignored")
    assert hours.branch__hours.friday == [(600, 780), (840, 1080)]
    assert hours.hours_on(dt.date(2027, 3, 5)) == [(600, 780), (840, 1080)]
    assert intervals_text(hours.hours_on(dt.date(2027, 3, 5))) == "10:00-13:00, 14:00-18:00"


def test_a_closure_replaces_its_weekday():
    assert LAB.hours_on(dt.date(2027, 12, 17)) == [(540, 1080)]  # a normal Friday
    assert LAB.hours_on(dt.date(2027, 12, 24)) == [(540, 780)]  # Christmas Eve: until 13:00
    assert LAB.hours_on(dt.date(2027, 12, 25)) == []  # a Saturday, closed all day
    assert LAB.closure_on(dt.date(2027, 12, 25)).reason == "Christmas Day"
    assert LAB.closure_on(dt.date(2027, 12, 18)) is None


def test_midnight_is_minute_1440_and_only_a_closing_time():
    assert branch({"friday": [["18:00", "24:00"]]}).branch__hours.friday == [(1080, 1440)]
    assert intervals_text([(1080, 1440)]) == "18:00-24:00"
    with pytest.raises(ValidationError, match="midnight is allowed only as a closing time"):
        branch({"friday": [["24:00", "24:00"]]})


@pytest.mark.parametrize("minutes", [{"wake_lead_minutes": 4}, {"wake_lead_minutes": 241},
                                     {"shutdown_warning_minutes": 0},
                                     {"patch_window_minutes": 481},
                                     {"shutdown_grace_minutes": 721}])
def test_minutes_outside_their_range_are_refused(minutes):
    with pytest.raises(ValidationError):
        branch(LAB_WEEK, **minutes)


def test_a_grace_covering_exactly_delay_window_and_warning_is_accepted():
    hours = branch(LAB_WEEK, patch_delay_minutes=15, patch_window_minutes=90,
                   shutdown_warning_minutes=10, shutdown_grace_minutes=115)
    with pytest.raises(ValidationError, match="shorter than the patch window needs"):
        branch(LAB_WEEK, shutdown_grace_minutes=114)
    assert hours.branch__shutdown_grace_minutes == 115


def test_a_night_too_short_to_shut_down_and_wake_is_refused():
    # Friday closes 22:00 and Saturday opens 00:30: 150 closed minutes; grace 120 + lead 30.
    with pytest.raises(ValidationError, match="between friday's last closing and saturday's"):
        branch({"friday": [["09:00", "22:00"]], "saturday": [["00:30", "12:00"]]})
    assert branch({"friday": [["09:00", "22:00"]], "saturday": [["00:31", "12:00"]]})


def test_a_closure_making_a_night_too_short_is_refused():
    # Open until midnight on Thursday 2027-12-23; Friday opens 09:00: 540 closed minutes.
    late = [{"date": "2027-12-23", "hours": [["09:00", "24:00"]], "reason": "Late night"}]
    with pytest.raises(ValidationError, match=r"closure \[0\]: too little closed time between "
                                              r"2027-12-23 and the next day"):
        branch(LAB_WEEK, late, shutdown_grace_minutes=520)
    assert branch(LAB_WEEK, late, shutdown_grace_minutes=509)


# --- open now, next opening and closing --------------------------------------------------------


@pytest.mark.parametrize(("at", "expected"), [
    (ny(2027, 3, 1, 8, 59), False),   # Monday, before opening
    (ny(2027, 3, 1, 9, 0), True),     # opening instant is open
    (ny(2027, 3, 1, 19, 59), True),
    (ny(2027, 3, 1, 20, 0), False),   # closing instant is closed
    (ny(2027, 3, 3, 10, 0), False),   # Wednesday: late opening at 12:00
    (ny(2027, 3, 3, 12, 30), True),
    (ny(2027, 3, 7, 12, 0), False),   # Sunday: closed
    (ny(2027, 12, 24, 12, 59), True),  # Christmas Eve, early closing at 13:00
    (ny(2027, 12, 24, 13, 0), False),
    (ny(2027, 12, 25, 12, 0), False),  # Christmas Day, a Saturday
])
def test_is_open_in_new_york(at, expected):
    assert LAB.is_open(at) is expected


def test_is_open_takes_any_zone_and_refuses_naive_instants():
    assert LAB.is_open(dt.datetime(2027, 3, 1, 20, 30, tzinfo=CPH))  # 14:30 in New York
    with pytest.raises(ValueError, match="naive"):
        LAB.is_open(dt.datetime(2027, 3, 1, 14, 0))


def test_next_opening_skips_sunday_and_returns_local_time():
    opening = LAB.next_opening(ny(2027, 3, 6, 18, 0))  # Saturday evening
    assert opening == ny(2027, 3, 8, 9, 0)
    assert (opening.hour, opening.tzname()) == (9, "EST")


def test_next_opening_and_closing_are_strictly_after():
    assert LAB.next_opening(ny(2027, 3, 1, 9, 0)) == ny(2027, 3, 2, 9, 0)
    assert LAB.next_closing(ny(2027, 3, 1, 9, 0)) == ny(2027, 3, 1, 20, 0)
    assert LAB.next_closing(ny(2027, 3, 1, 20, 0)) == ny(2027, 3, 2, 20, 0)
    assert LAB.next_closing(ny(2027, 3, 3, 10, 0)) == ny(2027, 3, 3, 20, 0)  # closed: next span


def test_closures_move_the_next_opening_and_closing():
    assert LAB.next_closing(ny(2027, 12, 24, 10, 0)) == ny(2027, 12, 24, 13, 0)
    # Christmas Day (Saturday) closed, Sunday closed: Monday.
    assert LAB.next_opening(ny(2027, 12, 24, 14, 0)) == ny(2027, 12, 27, 9, 0)


def test_several_intervals_a_day():
    hours = branch({"friday": [["10:00", "13:00"], ["14:00", "18:00"]]})
    assert not hours.is_open(ny(2027, 3, 5, 13, 30))
    assert hours.next_opening(ny(2027, 3, 5, 13, 30)) == ny(2027, 3, 5, 14, 0)
    assert hours.next_closing(ny(2027, 3, 5, 11, 0)) == ny(2027, 3, 5, 13, 0)
    assert hours.closed_windows(ny(2027, 3, 5), ny(2027, 3, 6)) == [
        (ny(2027, 3, 5, 0, 0), ny(2027, 3, 5, 10, 0)),
        (ny(2027, 3, 5, 13, 0), ny(2027, 3, 5, 14, 0)),
        (ny(2027, 3, 5, 18, 0), ny(2027, 3, 6, 0, 0)),
    ]


def test_an_interval_ending_at_midnight():
    hours = branch({"saturday": [["10:00", "24:00"]]}, shutdown_grace_minutes=150)
    assert hours.is_open(ny(2027, 3, 6, 23, 59))
    assert not hours.is_open(ny(2027, 3, 7, 0, 0))
    assert hours.next_closing(ny(2027, 3, 6, 12, 0)) == ny(2027, 3, 7, 0, 0)


def test_a_branch_that_never_opens_has_no_next_opening_or_closing():
    hours = branch({}, [{"date": "2027-03-02", "hours": [["09:00", "12:00"]], "reason": "x"}],
                   patch_window_start="02:00")
    assert hours.next_opening(ny(2027, 3, 1)) == ny(2027, 3, 2, 9, 0)
    assert hours.next_opening(ny(2027, 3, 3)) is None
    assert hours.next_closing(ny(2027, 3, 3)) is None
    assert not hours.is_open(ny(2027, 3, 3))


def test_closed_windows_are_clipped_and_span_closures():
    windows = LAB.closed_windows(ny(2027, 12, 24, 10, 0), ny(2027, 12, 28, 10, 0))
    assert windows == [
        (ny(2027, 12, 24, 13, 0), ny(2027, 12, 27, 9, 0)),  # early closing, Christmas, Sunday
        (ny(2027, 12, 27, 20, 0), ny(2027, 12, 28, 9, 0)),
    ]
    assert [(a.hour, b.hour) for a, b in windows] == [(13, 9), (20, 9)]  # local wall clock
    assert LAB.closed_windows(ny(2027, 3, 1, 10), ny(2027, 3, 1, 11)) == []


# --- daylight saving time ----------------------------------------------------------------------


def test_a_closed_window_across_spring_forward_is_an_hour_shorter():
    (window,) = LAB.closed_windows(ny(2027, 3, 13, 12), ny(2027, 3, 15, 8))
    assert window == (ny(2027, 3, 13, 17, 0), ny(2027, 3, 15, 8))
    (night,) = LAB.closed_windows(ny(2027, 3, 13, 17), ny(2027, 3, 15, 9))
    assert night[1].astimezone(UTC) - night[0].astimezone(UTC) == dt.timedelta(hours=39)


def test_an_interval_boundary_in_the_spring_gap_is_the_jump_itself():
    # 02:30 does not exist on 2027-03-14 in New York: the wall clock jumps 01:59:59 -> 03:00.
    hours = branch({"sunday": [["01:00", "02:30"]]}, shutdown_grace_minutes=130)
    assert hours.next_closing(ny(2027, 3, 14, 1, 0)) == utc(2027, 3, 14, 7, 0)  # 03:00 EDT
    assert hours.is_open(utc(2027, 3, 14, 6, 59))
    assert not hours.is_open(utc(2027, 3, 14, 7, 0))
    assert hours.next_closing(ny(2027, 3, 7, 1, 0)) == utc(2027, 3, 7, 7, 30)  # a normal Sunday


def test_an_interval_boundary_in_the_repeated_autumn_hour_is_its_first_occurrence():
    hours = branch({"sunday": [["00:30", "01:30"]]}, shutdown_grace_minutes=130)
    assert hours.next_closing(ny(2027, 11, 7, 0, 30)) == utc(2027, 11, 7, 5, 30)  # 01:30 EDT
    assert hours.is_open(utc(2027, 11, 7, 5, 15))  # 01:15 EDT
    assert not hours.is_open(utc(2027, 11, 7, 6, 15))  # 01:15 EST, the second pass


def test_copenhagen_hours_follow_central_european_summer_time():
    hours = branch({"monday": [["08:00", "20:00"]], "saturday": [["10:00", "14:00"]]},
                   [{"date": "2027-03-25", "reason": "Skærtorsdag"}],
                   timezone="Europe/Copenhagen")
    assert not hours.is_open(utc(2027, 3, 22, 6, 30))  # 07:30 CET
    assert hours.is_open(utc(2027, 3, 29, 6, 30))  # 08:30 CEST
    opening = hours.next_opening(utc(2027, 3, 27, 14, 0))  # Saturday 15:00 CET
    assert opening == dt.datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert (opening.hour, opening.tzname()) == (8, "CEST")


# --- events ------------------------------------------------------------------------------------


def kinds_and_times(events: list[Event]) -> list[tuple[str, dt.datetime]]:
    return [(e.kind, e.at.astimezone(UTC)) for e in events]


def test_a_days_events_in_order():
    events = LAB.events(ny(2027, 3, 3), ny(2027, 3, 4))  # Wednesday, late opening
    assert kinds_and_times(events) == [
        ("wake", ny(2027, 3, 3, 11, 30)),
        ("wifi_on", ny(2027, 3, 3, 12, 0)),
        ("wifi_off", ny(2027, 3, 3, 20, 0)),
        ("patch_start", ny(2027, 3, 3, 20, 15)),
        ("patch_end", ny(2027, 3, 3, 21, 45)),
        ("warn", ny(2027, 3, 3, 21, 50)),
        ("shutdown", ny(2027, 3, 3, 22, 0)),
    ]
    assert {e.day for e in events} == {dt.date(2027, 3, 3)}


def test_several_intervals_wake_before_the_first_and_shut_down_after_the_last():
    hours = branch({"friday": [["10:00", "13:00"], ["14:00", "18:00"]]})
    events = hours.events(ny(2027, 3, 5), ny(2027, 3, 6))
    assert [e.kind for e in events] == ["wake", "wifi_on", "wifi_off", "patch_start",
                                        "patch_end", "warn", "shutdown"]
    times = dict(kinds_and_times(events))
    assert times["wake"] == ny(2027, 3, 5, 9, 30)
    assert times["wifi_off"] == ny(2027, 3, 5, 18, 0)
    assert times["shutdown"] == ny(2027, 3, 5, 20, 0)


def test_closures_replace_the_days_events():
    events = LAB.events(ny(2027, 12, 24), ny(2027, 12, 26))
    assert [(e.kind, e.at.astimezone(UTC)) for e in events if e.kind in ("wake", "shutdown")] \
        == [("wake", ny(2027, 12, 24, 8, 30)), ("shutdown", ny(2027, 12, 24, 15, 0))]


def test_events_after_a_midnight_closing_belong_to_the_opening_day():
    hours = branch({"saturday": [["10:00", "24:00"]]}, shutdown_grace_minutes=150)
    events = hours.events(ny(2027, 3, 6), ny(2027, 3, 7, 12))
    shutdown = next(e for e in events if e.kind == "shutdown")
    assert shutdown.at.astimezone(UTC) == ny(2027, 3, 7, 2, 30)
    assert shutdown.day == dt.date(2027, 3, 6)


def test_an_event_at_0230_on_the_spring_forward_day_is_skipped_as_systemd_does():
    # Saturday closes at 24:00; warning 02:20 and shutdown 02:30 on Sunday. 2027-03-14 02:00-03:00
    # does not exist in New York: systemd never fires those timers that night.
    hours = branch({"saturday": [["10:00", "24:00"]]}, shutdown_grace_minutes=150)
    kinds = [e.kind for e in hours.events(ny(2027, 3, 13, 12), ny(2027, 3, 14, 12))]
    assert kinds == ["wifi_off", "patch_start", "patch_end"]  # 00:00, 00:15, 01:45
    week_before = [e.kind for e in hours.events(ny(2027, 3, 6, 12), ny(2027, 3, 7, 12))]
    assert week_before == ["wifi_off", "patch_start", "patch_end", "warn", "shutdown"]


def test_an_event_in_the_repeated_autumn_hour_fires_once_at_its_first_occurrence():
    hours = branch({"saturday": [["10:00", "24:00"]]}, shutdown_grace_minutes=150)
    events = hours.events(ny(2027, 11, 6, 12), ny(2027, 11, 7, 12))
    patch_end = [e for e in events if e.kind == "patch_end"]
    assert [e.at.astimezone(UTC) for e in patch_end] == [utc(2027, 11, 7, 5, 45)]  # 01:45 EDT
    assert patch_end[0].at.tzname() == "EDT"
    shutdown = next(e for e in events if e.kind == "shutdown")
    assert shutdown.at.astimezone(UTC) == utc(2027, 11, 7, 7, 30)  # 02:30 EST


def test_copenhagen_events_across_the_spring_change():
    hours = branch({"saturday": [["10:00", "14:00"]], "monday": [["08:00", "20:00"]]},
                   timezone="Europe/Copenhagen")
    wakes = [e.at.astimezone(UTC) for e in hours.events(utc(2027, 3, 20), utc(2027, 3, 30))
             if e.kind == "wake"]
    assert wakes == [utc(2027, 3, 20, 8, 30), utc(2027, 3, 22, 6, 30),  # CET, +1
                     utc(2027, 3, 27, 8, 30), utc(2027, 3, 29, 5, 30)]  # CET, then CEST, +2


def test_instant_text_for_people():
    at = dt.datetime(2027, 3, 1, 20, 0, tzinfo=NY)
    assert instant_text(at) == "Mon 1 Mar 2027 20:00 EST"
    assert instant_text(at, now=ny(2027, 2, 26, 12)) == "Mon 20:00"
    assert instant_text(at, now=ny(2027, 2, 1, 12)) == "Mon 1 Mar 20:00"
    assert instant_text(at, now=ny(2026, 12, 31, 12)) == "Mon 1 Mar 2027 20:00 EST"


# --- the patch window's calendar (role updates) ------------------------------------------------


def test_the_patch_calendar_fires_minutes_into_each_opening_days_window():
    # Closings: Mon/Tue/Thu 20:00, Wed 20:00, Fri 18:00, Sat 17:00; Christmas Eve 13:00. The
    # window opens 15 minutes after closing; the calendar fires 20 minutes into it.
    zone = "America/New_York"
    assert LAB.patch_calendar(20) == [
        f"Sat *-*-* 17:35:00 {zone}", f"Fri *-*-* 18:35:00 {zone}",
        f"Mon..Thu *-*-* 20:35:00 {zone}", f"2027-12-24 13:35:00 {zone}"]
    assert LAB.patch_calendar() == [e for t in LAB.timer_plan()["timers"]
                                    if t["event"] == "patch_start" for e in t["on_calendar"]]


def test_the_patch_calendar_moves_to_the_next_weekday_after_a_late_closing():
    hours = branch({"friday": [["10:00", "23:50"]]}, shutdown_grace_minutes=150)
    assert hours.patch_calendar(10) == ["Sat *-*-* 00:15:00 America/New_York"]


@pytest.mark.parametrize("after", [-1, 90])
def test_the_patch_calendar_refuses_minutes_outside_the_window(after):
    with pytest.raises(ValueError, match=r"outside the patch window \(allowed: 0-89"):
        LAB.patch_calendar(after)


def test_the_weekly_patch_windows_start_after_each_days_last_closing():
    assert LAB.patch_windows() == {
        day: (closing + 15, closing + 105) for day, closing in (
            ("monday", 1200), ("tuesday", 1200), ("wednesday", 1200), ("thursday", 1200),
            ("friday", 1080), ("saturday", 1020))}
    late = branch({"friday": [["10:00", "23:50"]]}, shutdown_grace_minutes=150)
    assert late.patch_windows() == {"friday": (1445, 1535)}  # 00:05-01:35 on Saturday


ALWAYS = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


@pytest.mark.parametrize("week", [{}, ALWAYS], ids=["never open", "open around the clock"])
def test_a_branch_without_a_closing_must_declare_its_patch_window(week):
    with pytest.raises(ValidationError) as error:
        branch(week)
    (problem,) = error.value.errors()
    assert problem["loc"] == ("branch__patch_window_start",)
    assert "security updates stop" in problem["msg"]


def test_a_branch_open_around_the_clock_is_always_open_and_only_patches():
    hours = branch(ALWAYS, patch_window_start="03:00")
    assert hours.always_open and hours.is_open(ny(2027, 3, 14, 2, 30))
    assert hours.next_closing(ny(2027, 3, 1)) is None and hours.next_opening(ny(2027, 3, 1)) is None
    assert hours.closed_windows(ny(2027, 3, 1), ny(2027, 3, 3)) == []
    events = hours.events(ny(2027, 3, 1), ny(2027, 3, 3))
    assert [(e.kind, e.at.hour, e.at.minute) for e in events] == [
        ("patch_start", 3, 0), ("patch_end", 4, 30)] * 2
    assert hours.patch_calendar(20) == ["*-*-* 03:20:00 America/New_York"]
    assert hours.closures_notice(ny(2027, 3, 1)) is None
    with pytest.raises(ValidationError, match="open around the clock"):
        branch(ALWAYS, [{"date": "2027-03-02", "reason": "power cut"}], patch_window_start="03:00")


def test_a_declared_patch_window_opens_every_day_closures_included():
    hours = branch(LAB_WEEK, LAB_CLOSURES, patch_window_start="02:00")
    christmas = hours.events(ny(2027, 12, 25), ny(2027, 12, 26))
    assert [(e.kind, e.at.hour) for e in christmas] == [("patch_start", 2), ("patch_end", 3)]
    assert set(hours.patch_windows().values()) == {(120, 210)}
    units = {t["unit"]: t for t in hours.timer_plan()["timers"]}
    assert units["libraryops-patch-start-daily"]["on_calendar"] == [
        "*-*-* 02:00:00 America/New_York"]
    assert units["libraryops-patch-end-daily"]["on_calendar"] == [
        "*-*-* 03:30:00 America/New_York"]
    assert not [u for u in units if u in ("libraryops-patch-start", "libraryops-patch-end")]


@pytest.mark.parametrize("start", ["19:00", "08:00", "23:59"])
def test_a_declared_patch_window_in_opening_hours_is_refused(start):
    # 19:00 overlaps Monday's hours, 08:00 runs into 09:00, 23:59 is fine (the window ends at
    # 01:29 the next day).
    if start == "23:59":
        assert branch(LAB_WEEK, patch_window_start=start).branch__patch_window_start == 1439
        return
    with pytest.raises(ValidationError, match="overlaps the opening hours"):
        branch(LAB_WEEK, patch_window_start=start)


def test_closures_that_run_out_within_four_months_are_noticed():
    hours = branch(LAB_WEEK, LAB_CLOSURES)  # the last closure is 2027-12-25
    assert hours.closures_notice(ny(2027, 8, 24)) is None
    notice = hours.closures_notice(ny(2027, 8, 26))
    assert "end on 2027-12-25, less than 4 months ahead" in notice
    assert "are not listed at all" in branch(LAB_WEEK).closures_notice(ny(2027, 1, 1))


# --- the state the monitoring host publishes ---------------------------------------------------


@pytest.mark.parametrize(("at", "expected"), [
    (ny(2027, 12, 20, 8, 29), "closed"), (ny(2027, 12, 20, 8, 30), "wake_lead"),
    (ny(2027, 12, 20, 9, 0), "open"), (ny(2027, 12, 20, 19, 59), "open"),
    (ny(2027, 12, 20, 20, 0), "closed"), (ny(2027, 12, 20, 20, 15), "patch"),
    (ny(2027, 12, 20, 21, 45), "closed"), (ny(2027, 12, 19, 12, 0), "closed"),
    # An early closing (modified hours) and a closure date.
    (ny(2027, 12, 24, 12, 59), "open"), (ny(2027, 12, 24, 13, 15), "patch"),
    (ny(2027, 12, 25, 12, 0), "closed"),
    # Across the spring-forward night: Monday's wake and opening on EDT wall time.
    (ny(2027, 3, 15, 8, 29), "closed"), (ny(2027, 3, 15, 8, 30), "wake_lead"),
    (ny(2027, 3, 15, 9, 0), "open"),
], ids=str)
def test_the_published_state_follows_the_days_events(at, expected):
    assert LAB.state(at) == expected


def test_the_state_timers_set_what_the_state_says_after_each_event():
    """Each state timer sets the state :meth:`state` gives right after its event fires."""
    timers = LAB.state_timers("/etc/libraryops/monitoring/closures-main")
    assert {t["event"] for t in timers} == {"wake", "wifi_on", "wifi_off", "patch_start",
                                            "patch_end", "shutdown"}
    assert all("/etc/libraryops/monitoring/closures-main" in t["exec_condition"]
               for t in timers if t["exec_condition"])
    state_of = {t["event"]: t["state"] for t in timers}
    for event in LAB.events(ny(2027, 12, 20), ny(2027, 12, 27)):
        if event.kind in state_of:
            assert LAB.state(event.at) == state_of[event.kind], event


def test_around_the_clock_is_always_open_and_never_open_only_patches():
    always = branch(ALWAYS, patch_window_start="03:00")
    assert always.state(ny(2027, 3, 14, 3, 30)) == "open" and always.state_timers() == []
    never = branch({}, patch_window_start="03:00")
    assert never.state(ny(2027, 3, 15, 3, 30)) == "patch"
    assert never.state(ny(2027, 3, 15, 12, 0)) == "closed"
