"""``make validate`` as a whole: the shipped sites are clean, a site Ansible cannot read is one
problem, every problem is reported in one run, and a bad site contacts no host.

Each concern's bad inputs are in ``test_<concern>.py`` beside this file (the module of
libraryops.validation that checks them). Bad sites are copies of a shipped site in tmp_path with
one file edited. Each bad-input case lists every problem line it expects (file relative to the
site, key, a piece of the problem), in the order printed, so a validator that reports too much
fails as well as one that misses.
"""

import re
import shutil
import socket
import subprocess
import sys

import pytest
from sites import (
    EAST,
    EXAMPLE,
    HOSTS,
    PUBLIC_PC,
    assert_problems,
    edit,
    inline_host_var,
    no_address,
    patron_is_root,
    run,
    unknown_time_zone,
    write,
)

from libraryops import clock, paths
from libraryops.validation import run as validation

# --- clean sites ----------------------------------------------------------------------------


def test_example_site_is_valid(capsys):
    code, lines = run(EXAMPLE, capsys)
    assert lines == ["validate: inventories/example: 11 hosts, 6 groups: OK"]
    assert code == 0


def test_example_output_as_of_a_date_with_warnings(capsys, monkeypatch):
    """``make validate``'s whole output for the example site, the clock pinned (``NOW=``) to a
    day on which its closure dates run out within four months: the two warnings and the
    summary, exactly."""
    monkeypatch.setenv(clock.NOW_ENV, "2027-09-07T12:00:00Z")
    code, lines = run(EXAMPLE, capsys)
    notice = ("branch__closures: warning: the closure dates end on 2027-12-31, less than 4 months "
              "ahead: next year's public holidays would be opening days (make closures "
              "SITE=<site> suggests them) (allowed: closure dates reaching further ahead)")
    assert lines == [
        f"inventories/example/group_vars/branch_east/hours.yml: {notice}",
        f"inventories/example/group_vars/branch_main/hours.yml: {notice}",
        "validate: inventories/example: 11 hosts, 6 groups: OK (2 warning(s))",
    ]
    assert code == 0


def test_lab_site_is_valid(lab, capsys):
    code, lines = run(lab, capsys)
    assert lines == [f"validate: {lab}: 4 hosts, 5 groups: OK"]
    assert code == 0
    assert validation.validate_site(lab) == []


def test_unknown_site_name_is_a_usage_error(capsys):
    assert validation.main(["no-such-site"]) == 2
    assert "SITE='no-such-site'" in capsys.readouterr().err


# --- the whole run: every problem at once, nothing contacted ----------------------------


def _not_an_inventory(site):
    edit(site, HOSTS, "        main-ap-01:\n          ansible_host: 198.51.100.31\n"
                      "        east-ap-01:\n          ansible_host: 203.0.113.31\n",
         "        - main-ap-01\n        - east-ap-01\n")


BAD = {
    "inventory Ansible cannot read": (_not_an_inventory, [
        (HOSTS, "ansible-inventory", "Invalid \"hosts\" entry for \"wireless_aps\" group")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_example_site(case, example, bad_input):
    bad_input(example, BAD[case])


def test_every_problem_is_reported_in_one_run(example, capsys):
    no_address(example)
    inline_host_var(example)
    unknown_time_zone(example)
    patron_is_root(example)
    assert_problems(example, capsys, [
        (HOSTS, "all.children.public_pcs.hosts.main-pub-01.public_pc__patron_user", "inline"),
        (HOSTS, "hosts.east-pub-02.ansible_host", "missing"),
        (EAST, "branch__timezone", "not an IANA time zone"),
        (PUBLIC_PC, "public_pc__patron_user", "root is not allowed here"),
    ])


@pytest.mark.parametrize("command", ["validate", "make converge", "make bootstrap"])
def test_bad_site_contacts_no_host(example, tmp_path, command):
    """A bad site whose hosts all point at a listener here: validation fails and the targets that
    would change hosts stop before any connection."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        hosts = (example / HOSTS).read_text()
        hosts = re.sub(r"ansible_host: \S+",
                       f"ansible_host: 127.0.0.1\n          ansible_port: {port}", hosts)
        write(example, HOSTS, hosts)
        unknown_time_zone(example)
        site = shutil.copytree(example, tmp_path / "badsite")  # not a documentation-only name
        argv = ([sys.executable, "-m", "libraryops.validation", str(site)] if command == "validate"
                else [*command.split(), f"INVENTORY={site}", "SITE=badsite"])
        proc = subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, timeout=120,
                              check=False)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith(("/", "validate:"))]
    assert (f"{site / EAST}: branch__timezone: not an IANA time zone "
            "(allowed: an IANA Area/Location name, e.g. America/New_York, or UTC)") in lines
    # (a warning may join the count: no SSH identity to prove on this machine)
    assert re.fullmatch(r"validate: \d+ problem\(s\)( \(\d+ warning\(s\)\))?; nothing was "
                        r"contacted", lines[-1]), lines[-1]
    assert "Traceback" not in proc.stderr

