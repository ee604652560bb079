"""The lab's print server: one ``ippeveprinter`` (Debian ``cups-ipp-utils``) for the staff queues.

Staff machines add their CUPS queues with ``lpadmin -m everywhere``, which asks a reachable IPP
printer for its attributes; in the lab that printer is this one, at
``ipp://<bridge-ip>:631/ipp/print``.

Two facts of ``ippeveprinter`` 2.4 shape how it is run:

- It needs a D-Bus system bus for its DNS-SD (Avahi) client even with ``-r off``, and this
  machine has none: it runs under ``dbus-run-session`` with ``DBUS_SYSTEM_BUS_ADDRESS`` pointed at
  that private bus. No Avahi daemon is on it, so nothing is announced anywhere (the client just
  waits in state "connecting").
- ``-n <name>`` binds only the addresses the name resolves to, but it must get an IPv6 listener
  too, and the bridge has no IPv6 name: it listens on the wildcard addresses instead, and the
  lab's nftables table drops :data:`PRINTER_PORT` on every interface but the bridge and loopback
  (:func:`libraryops.lab.render.nft_ruleset`).

It runs in its own session (``setsid``); the session leader's pid is recorded in
``<state>/printer/printer.pid`` and ``stop`` signals the whole process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess

from libraryops.lab import render
from libraryops.lab.config import LabConfig, Layout
from libraryops.lab.system import (
    LabError,
    process_cmdline,
    program,
    read_pid,
    tail,
    wait_until,
)

#: The printer's name as IPP clients see it (printer-info).
PRINTER_NAME = "Lab Staff Printer"
#: Seconds ``ippeveprinter`` has to answer on the bridge address.
START_TIMEOUT = 10


def printer_uri(config: LabConfig) -> str:
    """The IPP URI of the lab's printer (what the lab inventory's staff queues point at)."""
    return f"ipp://{config.bridge_ip}:{render.PRINTER_PORT}/ipp/print"


def command(layout: Layout) -> list[str]:
    """The command line: ippeveprinter on a private D-Bus session bus (see the module doc)."""
    inner = [
        program("ippeveprinter"), "-p", str(render.PRINTER_PORT), "-r", "off",
        "-d", str(layout.printer_spool), PRINTER_NAME,
    ]
    return [
        program("dbus-run-session"), "--", "sh", "-c",
        'DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" exec "$@"', "ippeveprinter", *inner,
    ]


def printer_pid(layout: Layout) -> int | None:
    """The pid (and process group) of the lab's running printer session, or None."""
    pid = read_pid(layout.printer_pid)
    if pid is None:
        return None
    cmdline = process_cmdline(pid)
    return pid if "ippeveprinter" in cmdline and str(layout.printer_spool) in cmdline else None


def ensure_printer(config: LabConfig) -> str:
    """Start the printer unless it runs; return what was done.

    Raises:
        LabError: ippeveprinter or dbus-run-session is missing, the port is taken, or it did not
            answer on the bridge address in time (the message shows its log).
    """
    layout = config.layout
    if printer_pid(layout) is not None:
        return f"printer running at {printer_uri(config)}"
    layout.printer_spool.mkdir(parents=True, exist_ok=True)
    log = layout.logs / "printer.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if _answers(config.bridge_ip):
        raise LabError(f"port {render.PRINTER_PORT} on {config.bridge_ip} is already taken "
                       "(a CUPS daemon on this machine?): stop it, the lab's printer needs it")
    with open(log, "wb") as out:
        proc = subprocess.Popen(command(layout), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    layout.printer_pid.write_text(f"{proc.pid}\n")
    if not wait_until(lambda: proc.poll() is None and _answers(config.bridge_ip), START_TIMEOUT):
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        layout.printer_pid.unlink(missing_ok=True)
        raise LabError(f"ippeveprinter did not start on {config.bridge_ip}; see {log}:\n"
                       f"{tail(log)}")
    return f"printer started at {printer_uri(config)}"


def stop_printer(layout: Layout) -> bool:
    """Stop the printer's process group (SIGTERM, SIGKILL after 10 s); True when one ran."""
    pid = printer_pid(layout)
    if pid is None:
        layout.printer_pid.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    if not wait_until(lambda: printer_pid(layout) is None, 10):
        _signal_group(pid, signal.SIGKILL)
    layout.printer_pid.unlink(missing_ok=True)
    return True


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _answers(address: str) -> bool:
    try:
        with socket.create_connection((address, render.PRINTER_PORT), timeout=1):
            return True
    except OSError:
        return False
