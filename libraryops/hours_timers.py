"""What hosts get from a branch's hours: the closures file, the ``ExecCondition=`` of weekday
timers, the systemd timer plan and the patch window's calendar (plain data both engines render).

:class:`TimerRendering` is a part of :class:`libraryops.hours.BranchHours` (a mixin over its
fields and day events); see :mod:`libraryops.hours` for the time semantics.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from libraryops.hours_values import (
    CLOSURES_PATH,
    DAY,
    EVENTS,
    OFFSET_SUFFIX,
    OPENING_DAY_ARG,
    STATE_AFTER,
    WEEKDAYS,
    systemd_time,
    systemd_weekdays,
)


class TimerRendering:
    """The rendering methods of :class:`libraryops.hours.BranchHours`."""

    def closures_file(self) -> str:
        """The closures file's content (:data:`CLOSURES_PATH`): a comment header, then every
        closure date (closed all day or modified hours), sorted, one ``YYYY-MM-DD`` per line."""
        header = (f"# Closure dates (local dates in {self.branch__timezone}), one per line: the\n"
                  "# libraryops weekday timers skip them (ExecCondition). From the inventory.\n")
        return header + "".join(f"{day.isoformat()}\n" for day in sorted(self._closures))

    def exec_condition_argv(self, day_offset: int,
                            closures_path: str = CLOSURES_PATH) -> list[str]:
        """The ``ExecCondition=`` command of a weekday timer firing ``day_offset`` days (-1, 0 or
        1) after its opening day, as an argv: exit 0 (run) unless the opening day, computed in
        the branch's zone with GNU date (``date -I``: ``YYYY-MM-DD``), is listed in
        ``closures_path`` (default :data:`CLOSURES_PATH`; a host that keeps several branches'
        timers, the monitoring host, has one file per branch); no file = nothing listed.

        The day before or after is taken from noon (``date -d "12:00 tomorrow"``): GNU date's
        bare ``tomorrow``/``yesterday`` move by 24 hours, which on a daylight-saving night lands
        on the wrong date (23:45 + 24 h on the night clocks spring forward is 00:45 two days
        later; found by the schedule verifier). The command holds no ``$`` and no ``%``, so no
        systemd specifier or variable expansion applies (``man systemd.service``, "Command
        lines"): the command systemd stores is exactly the one it runs, which the schedule
        verifier (:mod:`libraryops.timer_probe`) replays as of any instant."""
        return ["/bin/sh", "-c", f"! grep -qsxF `TZ={self.branch__timezone} "
                f"date{OPENING_DAY_ARG[day_offset]} -I` {closures_path}"]

    def exec_condition(self, day_offset: int, closures_path: str = CLOSURES_PATH) -> str:
        """:meth:`exec_condition_argv` as a unit-file command line (its script single-quoted)."""
        shell, flag, script = self.exec_condition_argv(day_offset, closures_path)
        return f"{shell} {flag} '{script}'"

    def timer_plan(self, closures_path: str = CLOSURES_PATH) -> dict[str, Any]:
        """Everything the engines render for this branch's schedules, as plain data.

        Args:
            closures_path: the closures file the weekday timers' conditions read.

        Returns:
            ``{"closures_path": str, "closures": str (file content), "timers": [timer, ...]}``
            where each timer is ``{"unit": "libraryops-<stem>[-suffix]", "event": kind,
            "description": str, "on_calendar": [OnCalendar= expression, ...],
            "exec_condition": str | None, "day_offset": -1 | 0 | 1 | None}``:

            - weekday timers (``exec_condition`` set): one unit per event kind and day offset
              (``-before-midnight`` / ``-after-midnight`` when the event falls on the day before
              or after its opening day), one expression per local time, weekdays grouped in
              systemd's normalized form, e.g. ``Mon,Tue,Thu..Sat *-*-* 08:30:00 America/New_York``;
            - dated timers (``-dated``, no condition): the events of closures with modified
              hours, one full-date expression each, e.g. ``2027-12-24 15:00:00 America/New_York``;
            - with a declared patch window, daily patch timers (``-daily``, no condition: they
              fire on closure dates too), e.g. ``*-*-* 02:00:00 America/New_York``.

            The expressions carry the branch's time zone (``man systemd.time``), so a host's
            own time zone does not matter. Units are ordered as :data:`EVENTS`.
        """
        weekly: dict[tuple[str, int], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        for index, name in enumerate(WEEKDAYS):
            for kind, minute in self._day_events(getattr(self.branch__hours, name)):
                offset, at = divmod(minute, DAY)
                weekly[kind, offset][at].add((index + offset) % 7)
        dated: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
        for day, closure in sorted(self._closures.items()):
            for kind, minute in self._day_events(closure.hours):
                offset, at = divmod(minute, DAY)
                dated[kind].append((day + dt.timedelta(days=offset), at))
        timers = []
        declared = dict(self._declared_patch())
        for kind, (stem, what) in EVENTS.items():
            if kind in declared:
                timers.append({
                    "unit": f"libraryops-{stem}-daily",
                    "event": kind,
                    "description": f"libraryops: {what} (declared, every day)",
                    "on_calendar": [f"*-*-* {systemd_time(declared[kind] % DAY)} "
                                    f"{self.branch__timezone}"],
                    "exec_condition": None,
                    "day_offset": None,
                })
            for offset, suffix in OFFSET_SUFFIX.items():
                if (kind, offset) in weekly:
                    times = weekly[kind, offset]
                    timers.append({
                        "unit": f"libraryops-{stem}{suffix}",
                        "event": kind,
                        "description": f"libraryops: {what} (closure dates skipped)",
                        "on_calendar": [self._weekly_spec(times[at], at) for at in sorted(times)],
                        "exec_condition": self.exec_condition(offset, closures_path),
                        "day_offset": offset,
                    })
            if dated[kind]:
                timers.append({
                    "unit": f"libraryops-{stem}-dated",
                    "event": kind,
                    "description": f"libraryops: {what} (dates with modified hours)",
                    "on_calendar": [f"{day.isoformat()} {systemd_time(at)} {self.branch__timezone}"
                                    for day, at in dated[kind]],
                    "exec_condition": None,
                    "day_offset": None,
                })
        return {"closures_path": closures_path, "closures": self.closures_file(),
                "timers": timers}

    def state_timers(self, closures_path: str = CLOSURES_PATH) -> list[dict[str, Any]]:
        """The timers that publish the branch's state (:data:`STATE_AFTER`): the
        :meth:`timer_plan` timers of those events, each with the ``state`` it sets; none for a
        branch open around the clock (it stays "open", as :meth:`BranchHours.state` says, its
        declared patch window included).

        Args:
            closures_path: the closures file the weekday timers' conditions read.
        """
        if self.always_open:
            return []
        return [{**timer, "state": STATE_AFTER[timer["event"]]}
                for timer in self.timer_plan(closures_path)["timers"]
                if timer["event"] in STATE_AFTER]

    def patch_windows(self) -> dict[str, tuple[int, int]]:
        """The weekly patch window: weekday (a key of :data:`WEEKDAYS`, open that day, or every
        weekday when the window is declared) -> (start, end) in wall-clock minutes from that
        day's midnight (end may pass 1440, the next day). Closures are not included (their own
        hours apply on their dates)."""
        declared = dict(self._declared_patch())
        if declared:
            return dict.fromkeys(WEEKDAYS, (declared["patch_start"], declared["patch_end"]))
        windows = {}
        for name in WEEKDAYS:
            events = dict(self._day_events(getattr(self.branch__hours, name)))
            if events:
                windows[name] = (events["patch_start"], events["patch_end"])
        return windows

    def patch_calendar(self, after_minutes: int = 0) -> list[str]:
        """The ``OnCalendar=`` expressions firing ``after_minutes`` into the patch window of every
        opening day: the weekday expressions, then one full-date expression per closure with
        modified hours, as :meth:`timer_plan` renders the ``patch_start`` timers (the updates
        role schedules the apt timers with them); with a declared patch window, one daily
        expression at its start plus ``after_minutes``. They carry no closure condition: on a date
        closed all day the weekday expression still fires, while the building is closed (public
        PCs are off then; an always-on machine patches in the empty building).

        Args:
            after_minutes: whole minutes after the window opens, 0 to window length - 1.

        Raises:
            ValueError: ``after_minutes`` is outside the patch window.
        """
        window = self.branch__patch_window_minutes
        if not 0 <= after_minutes < window:
            raise ValueError(f"after_minutes={after_minutes}: outside the patch window "
                             f"(allowed: 0-{window - 1}, branch__patch_window_minutes={window})")
        start = self.branch__patch_window_start
        if start is not None:
            return [f"*-*-* {systemd_time((start + after_minutes) % DAY)} {self.branch__timezone}"]
        shifted = self.model_copy(update={
            "branch__patch_delay_minutes": self.branch__patch_delay_minutes + after_minutes})
        return [expression for timer in shifted.timer_plan()["timers"]
                if timer["event"] == "patch_start" for expression in timer["on_calendar"]]

    def _weekly_spec(self, weekdays: set[int], at: int) -> str:
        days = systemd_weekdays(weekdays)
        return f"{days + ' ' if days else ''}*-*-* {systemd_time(at)} {self.branch__timezone}"


