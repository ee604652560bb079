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

Its owner (:mod:`libraryops.lab.owner`) runs it: the unit ``libraryops-lab-printer.service``
with systemd, else a session of its own whose leader's pid is in ``<state>/printer/printer.pid``.

A desktop Debian's CUPS (``cups.service``, ``cups.socket``) holds ``localhost:631``; then the
wildcard listener cannot bind, so both the bridge address and 127.0.0.1 are checked first.
"""

from __future__ import annotations

import socket

from libraryops.lab import owner, render
from libraryops.lab.config import LabConfig, Layout
from libraryops.lab.system import program

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


def daemon(layout: Layout) -> owner.Daemon:
    """The printer as its owner runs it."""
    return owner.Daemon(
        name="printer", argv=tuple(command(layout)), log=layout.logs / "printer.log",
        pidfile=layout.printer_pid, marker=str(layout.printer_spool))


def printer_pid(layout: Layout) -> int | None:
    """The pid of the lab's running printer (its D-Bus session's leader), or None."""
    return owner.daemon_pid(daemon(layout))


def ensure_printer(config: LabConfig) -> str:
    """Start the printer unless it runs; return what was done.

    Raises:
        LabError: ippeveprinter or dbus-run-session is missing, the port is taken (the message
            names the program and its unit, e.g. cups.service), or it did not answer on the
            bridge address in time (the message shows its log).
    """
    layout = config.layout
    printer = daemon(layout)
    if owner.daemon_pid(printer) is not None:
        return f"printer running at {printer_uri(config)}"
    layout.printer_spool.mkdir(parents=True, exist_ok=True)
    owner.start_answering(
        printer, lambda: printer_pid(layout) is not None and _answers(config.bridge_ip),
        START_TIMEOUT, f"ippeveprinter did not start on {config.bridge_ip}",
        ports=((config.bridge_ip, render.PRINTER_PORT), ("127.0.0.1", render.PRINTER_PORT)),
        needs="the lab's printer needs it (a CUPS daemon? `systemctl disable --now "
              "cups.service cups.socket`)")
    return f"printer started at {printer_uri(config)}"


def stop_printer(layout: Layout) -> bool:
    """Stop the printer (its whole process group or unit); True when one ran."""
    return owner.stop_daemon(daemon(layout))


def _answers(address: str) -> bool:
    try:
        with socket.create_connection((address, render.PRINTER_PORT), timeout=1):
            return True
    except OSError:
        return False
