"""The lab's SMTP sink: where the monitoring host's Alertmanager delivers its e-mails.

A real site names its town's mail relay (``monitoring__smtp_smarthost``); the lab's inventory
names this sink, ``<bridge-ip>:2525``. It is ``aiosmtpd`` (PyPI, pinned in requirements.txt) with
its ``Mailbox`` handler: every message it accepts is stored as one file of a Maildir
(``<state>/mail/Maildir``) that the integration tests read with :mod:`mailbox`. It relays
nothing, and it listens on the bridge address only.

Its owner (:mod:`libraryops.lab.owner`) runs it like the printer: the unit
``libraryops-lab-mail.service`` with systemd, else a session of its own whose leader's pid is in
``<state>/mail/mail.pid``.
"""

from __future__ import annotations

import mailbox
import shutil
import socket
import sys
from pathlib import Path

from libraryops.lab import owner, render
from libraryops.lab.config import LabConfig

#: Seconds the sink has to answer on the bridge address.
START_TIMEOUT = 10


def smarthost(config: LabConfig) -> str:
    """``host:port`` of the sink (what the lab inventory's monitoring__smtp_smarthost names)."""
    return f"{config.bridge_ip}:{render.MAIL_PORT}"


def command(listen: str, maildir: Path) -> list[str]:
    """The command line: aiosmtpd in the foreground on ``listen`` (``host:port``), as its
    caller (``-n``: no setuid to nobody, who could not write the Maildir), storing each message
    in ``maildir``."""
    return [sys.executable, "-m", "aiosmtpd", "-n", "-l", listen,
            "-c", "aiosmtpd.handlers.Mailbox", str(maildir)]


def daemon(config: LabConfig) -> owner.Daemon:
    """The sink as its owner runs it."""
    layout = config.layout
    return owner.Daemon(
        name="mail", argv=tuple(command(smarthost(config), layout.maildir)),
        log=layout.logs / "mail.log",
        pidfile=layout.mail_pid, marker=str(layout.maildir))


def mail_pid(config: LabConfig) -> int | None:
    """The pid of the lab's running sink, or None."""
    return owner.daemon_pid(daemon(config))


def ensure_mail(config: LabConfig) -> str:
    """Start the sink unless it runs; return what was done.

    Raises:
        LabError: the port is taken on the bridge address (the message names who holds it), or
            the sink did not answer there in time (the message shows its log).
    """
    sink = daemon(config)
    if owner.daemon_pid(sink) is not None:
        return f"mail sink running at {smarthost(config)}"
    config.layout.maildir.parent.mkdir(parents=True, exist_ok=True)
    owner.start_answering(
        sink, lambda: mail_pid(config) is not None and answers(config.bridge_ip), START_TIMEOUT,
        f"the mail sink did not start on {smarthost(config)}",
        ports=((config.bridge_ip, render.MAIL_PORT),), needs="the lab's mail sink needs it")
    return f"mail sink started at {smarthost(config)}"


def stop_mail(config: LabConfig) -> bool:
    """Stop the sink (its whole process group or unit) and remove its Maildir; True when one
    ran."""
    ran = owner.stop_daemon(daemon(config))
    shutil.rmtree(config.layout.maildir, ignore_errors=True)
    return ran


def messages(maildir: Path) -> list[mailbox.MaildirMessage]:
    """Every message stored in ``maildir`` (the lab's: ``LabConfig.layout.maildir``), oldest
    first by delivery time; [] before the first."""
    if not maildir.is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    return sorted(box, key=lambda message: message.get_date())


def answers(address: str, port: int = render.MAIL_PORT) -> bool:
    """Whether an SMTP server greets on ``address:port`` (its "220" reply, RFC 5321 4.2)."""
    try:
        with socket.create_connection((address, port), timeout=1) as sock:
            return sock.recv(3) == b"220"
    except OSError:
        return False
