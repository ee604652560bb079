"""Ask a host's own systemd what its timers will do at chosen instants (stdlib only).

This file runs in two places: on a host, sent over SSH as ``python3 -c <this source> <request>``
by :class:`libraryops.timers.HostTimers` (Python 3.11 on Debian 12, 3.13 on Debian 13), and on
the controller, imported by the unit tests. Every decision is the real programs':

- **When a timer elapses**: the ``OnCalendar=`` expressions as the host's systemd loaded them
  (``systemctl show -p TimersCalendar``) expanded by ``systemd-analyze calendar --base-time=@T
  --iterations=N`` (``man systemd-analyze``, ``man systemd.time``).
- **Whether the service it starts acts at that instant**: the service's ``Condition*=`` and
  ``Assert*=`` settings evaluated by ``systemd-analyze condition`` (they do not depend on the
  date), then every ``ExecCondition=`` command run as systemd would run it (``man
  systemd.service``: exit 0 goes on, 1-254 skips the unit, 255 or a signal fails it; a ``-``
  prefix ignores the failure) with the clock of that instant: libfaketime (Debian package
  ``faketime``) preloaded with ``FAKETIME_FMT=%s FAKETIME=@<epoch>``, so each process of the
  command reads that instant whatever its own ``TZ``. The host's clock is never moved. The
  command line is the one systemd stores (D-Bus property ``ExecCondition``, via ``busctl``); a
  command that systemd would still expand (``$VAR``) is reported as not replayable.

Request (JSON, one argument): ``{"timers": [unit, ...], "windows": [[start, end], ...],
"as_of": [service, epoch] | null}`` with instants in epoch seconds, windows half-open.
Reply (JSON on stdout): for ``timers``, ``{timer: {"service", "calendar": [expression, ...],
"conditions": "ok" | failure text, "exec_condition": [argv, ...], "firings": [[epoch, verdict],
...]}}`` with verdict ``acts``, ``skipped`` (an ExecCondition said no, or a condition failed)
or ``failed: <why>``; for ``as_of``, ``{"ran": bool, "result": str}`` (the service was started
with the clock of that instant, through a runtime drop-in that is removed again; ``result`` is
systemd's ``Result``: ``exec-condition`` when an ExecCondition skipped it).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys

_ELAPSE = re.compile(r"^\s*(?:Next elapse|Iter\. #\d+): \w{3} "
                     r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$")
_CALENDAR = re.compile(r"\{ OnCalendar=(.*?) ; next_elapse=")
#: Where Debian's libfaketime package puts the preload library (multiarch directory).
FAKETIME_GLOB = "/usr/lib/*/faketime/libfaketime.so.1"
#: The runtime drop-in that gives a started service the clock of an instant.
AS_OF_DROPIN = "/run/systemd/system/{service}.d/zz-libraryops-as-of.conf"
_SYSTEMD_ENV = {"TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def _run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False,
                          env=env if env is not None else {**os.environ, **_SYSTEMD_ENV})


def faketime_library() -> str:
    """The libfaketime preload library's path.

    Raises:
        RuntimeError: the ``faketime`` package is not installed.
    """
    found = sorted(glob.glob(FAKETIME_GLOB))
    if not found:
        raise RuntimeError(f"no {FAKETIME_GLOB}: install Debian's faketime package")
    return found[0]


def expand(expressions: list[str], start: int, end: int) -> dict[str, list[int]]:
    """When systemd says each ``OnCalendar=`` expression elapses in ``[start, end)``.

    Args:
        expressions: calendar expressions (``man systemd.time``), e.g. ``Mon *-*-* 08:30:00
            America/New_York``.
        start, end: epoch seconds.

    Returns:
        normalized expression (systemd's) -> epoch seconds, sorted; an expression that never
        elapses in the range maps to [].

    Raises:
        RuntimeError: systemd-analyze refused an expression (its message), or an expression
            elapses more often than the iterations asked for (the range would be cut short).
    """
    # At most one elapse per day and expression (daily or rarer calendars), plus slack.
    iterations = (end - start) // 86400 + 3
    proc = _run(["systemd-analyze", "calendar", f"--base-time=@{start - 1}",
                 f"--iterations={iterations}", *expressions])
    if proc.returncode != 0:
        raise RuntimeError(f"systemd-analyze calendar: {proc.stderr.strip()}")
    found: dict[str, list[int]] = {}
    current: list[int] = []
    for line in proc.stdout.splitlines():
        if line.startswith("Normalized form: "):
            current = found.setdefault(line.removeprefix("Normalized form: "), [])
        elif match := _ELAPSE.match(line):
            at = dt.datetime.fromisoformat(match[1]).replace(tzinfo=dt.UTC)
            current.append(int(at.timestamp()))
    for expression, instants in found.items():
        if len(instants) >= iterations and instants[-1] < end:
            raise RuntimeError(f"{expression}: elapses more than once a day; widen iterations")
        found[expression] = sorted(i for i in instants if start <= i < end)
    return found


def run_as_of(argv: list[str], epoch: int, env: dict[str, str] | None = None,
              library: str | None = None) -> int:
    """Run ``argv`` with the clock of ``epoch`` (libfaketime); return its exit status
    (negative: killed by that signal).

    Raises:
        RuntimeError: libfaketime is missing.
    """
    clock = {"LD_PRELOAD": library or faketime_library(), "FAKETIME_FMT": "%s",
             "FAKETIME": f"@{epoch}"}
    base = {"PATH": _SYSTEMD_ENV["PATH"], "LANG": "C.UTF-8"}
    return subprocess.run(argv, env={**base, **(env or {}), **clock}, capture_output=True,
                          check=False).returncode


def verdict(commands: list[tuple[list[str], bool]], epoch: int,
            env: dict[str, str] | None = None, library: str | None = None) -> str:
    """What systemd makes of ``ExecCondition=`` commands run at ``epoch``.

    Args:
        commands: ``(argv, ignore_failure)`` in unit order.
        epoch: the instant, epoch seconds.
        env: the unit's ``Environment=`` (KEY=VALUE already split).

    Returns:
        ``acts`` (every command exited 0, or none is configured), ``skipped`` (one exited
        1-254; the rest do not run), or ``failed: <argv[0]> exit <n>`` (255 or a signal, not
        ignored).
    """
    for argv, ignore in commands:
        if any("$" in arg for arg in argv):
            return f"failed: {argv[0]}: holds '$', which systemd expands; cannot replay"
        status = run_as_of(argv, epoch, env, library)
        if status == 0:
            continue
        if 1 <= status <= 254:
            return "skipped"
        if not ignore:
            return f"failed: {argv[0]} exit {status}"
    return "acts"


def _bus_property(path: str, interface: str, name: str):
    proc = _run(["busctl", "get-property", "--json=short", "org.freedesktop.systemd1", path,
                 f"org.freedesktop.systemd1.{interface}", name])
    if proc.returncode != 0:
        raise RuntimeError(f"busctl get-property {name}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)["data"]


def _unit_path(unit: str) -> str:
    proc = _run(["busctl", "call", "--json=short", "org.freedesktop.systemd1",
                 "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "LoadUnit",
                 "s", unit])
    if proc.returncode != 0:
        raise RuntimeError(f"busctl LoadUnit {unit}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)["data"][0]


def _show(unit: str, *properties: str) -> dict[str, list[str]]:
    argv = ["systemctl", "show", unit] + [f"--property={p}" for p in properties]
    proc = _run(argv)
    found: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        found.setdefault(key, []).append(value)
    return found


def conditions_text(service_path: str) -> str:
    """The service's ``Condition*=``/``Assert*=`` settings evaluated by ``systemd-analyze
    condition``: "ok", or its message when they fail."""
    settings = []
    for interface_name in ("Conditions", "Asserts"):
        for kind, trigger, negate, parameter, _state in _bus_property(
                service_path, "Unit", interface_name):
            settings.append(f"{kind}={'|' if trigger else ''}{'!' if negate else ''}{parameter}")
    if not settings:
        return "ok"
    proc = _run(["systemd-analyze", "condition", *settings])
    return "ok" if proc.returncode == 0 else (proc.stderr or proc.stdout).strip()


def timer_report(timer: str, windows: list[tuple[int, int]]) -> dict:
    """Everything :func:`main` reports for one timer (see the module docstring)."""
    shown = _show(timer, "Unit", "TimersCalendar")
    service = shown.get("Unit", [""])[0]
    calendar = _CALENDAR.findall("\n".join(shown.get("TimersCalendar", [])))
    path = _unit_path(service)
    commands = [(argv, bool(ignore)) for _path, argv, ignore, *_ in
                _bus_property(path, "Service", "ExecCondition")]
    env = dict(item.split("=", 1) for item in _bus_property(path, "Service", "Environment"))
    conditions = conditions_text(path)
    library = faketime_library() if commands else None  # only a condition to replay needs it
    firings = []
    for start, end in windows:
        for instants in expand(calendar, start, end).values() if calendar else ():
            for epoch in instants:
                verdict_text = "skipped" if conditions != "ok" else verdict(
                    commands, epoch, env, library)
                firings.append([epoch, verdict_text])
    return {"service": service, "calendar": calendar, "conditions": conditions,
            "exec_condition": [argv for argv, _ in commands], "firings": sorted(firings)}


def start_as_of(service: str, epoch: int, library: str) -> dict:
    """Start ``service`` with the clock of ``epoch`` (a runtime drop-in preloading libfaketime,
    removed again after the start); report whether its ExecStart ran and its Result."""
    dropin = AS_OF_DROPIN.format(service=service)
    os.makedirs(os.path.dirname(dropin), exist_ok=True)
    with open(dropin, "w", encoding="utf-8") as handle:
        handle.write("# libraryops verify: this start runs as of a chosen instant; removed "
                     "right after.\n[Service]\n"
                     f"Environment=LD_PRELOAD={library} FAKETIME_FMT=%%s FAKETIME=@{epoch}\n")
    try:
        _run(["systemctl", "daemon-reload"])
        before = _show(service, "ExecMainStartTimestampMonotonic")
        started = _run(["systemctl", "start", service])
        after = _show(service, "ExecMainStartTimestampMonotonic", "Result")
    finally:
        os.remove(dropin)
        if not os.listdir(os.path.dirname(dropin)):
            os.rmdir(os.path.dirname(dropin))
        _run(["systemctl", "daemon-reload"])
    if started.returncode != 0:
        raise RuntimeError(f"systemctl start {service}: {started.stderr.strip()}")
    result = after["Result"][0]
    changed = after["ExecMainStartTimestampMonotonic"] != before["ExecMainStartTimestampMonotonic"]
    return {"ran": changed and result != "exec-condition", "result": result}


def main(argv: list[str]) -> int:
    """Answer one JSON request (see the module docstring) on stdout; 1 on an error (message
    on stderr)."""
    try:
        request = json.loads(argv[0])
        reply: dict = {}
        windows = [tuple(w) for w in request.get("windows", [])]
        reply["timers"] = {t: timer_report(t, windows) for t in request.get("timers", [])}
        if request.get("as_of"):
            service, epoch = request["as_of"]
            reply["as_of"] = start_as_of(service, int(epoch), faketime_library())
    except (RuntimeError, KeyError, IndexError, ValueError) as exc:
        print(f"timer_probe: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reply))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
