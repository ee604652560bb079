"""The lab's SMTP sink (libraryops.lab.mail), run for real on loopback: what Alertmanager hands
it over SMTP is a message of its Maildir, read back as the integration tests read it."""

import smtplib
import socket
import subprocess
from email.message import EmailMessage

import pytest

from libraryops.lab import mail
from libraryops.processes import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sink(tmp_path):
    """A sink on a free loopback port; yields (port, its Maildir)."""
    port = _free_port()
    maildir = tmp_path / "Maildir"
    proc = subprocess.Popen(mail.command(f"127.0.0.1:{port}", maildir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: mail.answers("127.0.0.1", port), 10), "no SMTP greeting"
        yield port, maildir
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_message_sent_to_the_sink_is_read_back(sink):
    port, maildir = sink
    assert mail.messages(maildir) == []
    message = EmailMessage()
    message["From"], message["To"] = "alerts@library.example", "technology@library.example"
    message["Subject"] = "[FIRING:1] PublicPCDownWhileOpen"
    message.set_content("FIRING: main-pub-01 is down while branch main is open\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)
    stored = mail.messages(maildir)
    assert [m["Subject"] for m in stored] == ["[FIRING:1] PublicPCDownWhileOpen"]
    assert "main-pub-01 is down" in stored[0].get_payload()
