"""Role staff_workstation: packages, staff print queues, AD membership configuration.

The print test sends a job to each queue: lab only (on a real site it would print a page).
"""

import re

import pytest

testinfra_hosts = ["ansible://staff_machines"]


def test_staff_packages_are_installed(host, role_vars):
    for package in role_vars("staff_workstation")["staff_workstation__packages"]:
        assert host.package(package).is_installed, package


def test_lab_only_staff_queues_point_at_the_inventory_printers_and_print(
        host, role_vars, lab_only):
    for printer in role_vars("staff_workstation")["staff_workstation__printers"]:
        name = printer["name"]
        # CUPS' own view of the queue, then a job it hands to the printer.
        assert host.check_output(f"LC_ALL=C lpstat -v {name}") == (
            f"device for {name}: {printer['uri']}")
        job = re.search(rf"request id is ({re.escape(name)}-\d+)",
                        host.check_output(f"echo test page | lp -d {name}"))[1]
        assert _completed(host, name, job), f"{job} did not complete"


def _completed(host, queue, job):
    for _ in range(60):
        if job in host.check_output(f"LC_ALL=C lpstat -W completed -o {queue}"):
            return True
        host.run("sleep 0.5")
    return False


def test_sssd_conf_is_private_and_valid(host, role_vars):
    settings = role_vars("staff_workstation")
    conf = host.file("/etc/sssd/sssd.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "root", 0o600)
    # sssd's own checker reads the file as sssd would.
    check = host.run("sssctl config-check")
    assert check.rc == 0 and "Issues identified by validators: 0" in check.stdout, check.stdout
    # realmd's own reading of it: the domain, and logins limited to the inventory's groups.
    realm = host.check_output("realm list")
    assert realm.splitlines()[0] == settings["staff_workstation__ad_domain"]
    assert "login-policy: allow-permitted-logins" in realm
    groups = re.search(r"permitted-groups: (.*)", realm)[1].split(", ")
    assert groups == settings["staff_workstation__ad_allowed_groups"]


def test_join_skipped_without_vault_credentials_and_sssd_off(host, role_vars):
    settings = role_vars("staff_workstation")
    if settings["staff_workstation__ad_join_password"]:
        pytest.skip("this site joins with vault credentials")
    # The keytab is what a join leaves (realm list shows the domain as soon as it is configured).
    assert not host.file("/etc/krb5.keytab").exists
    assert not host.service("sssd").is_running
    assert not host.service("sssd").is_enabled


def test_home_directories_are_made_at_first_login(host):
    assert "pam_mkhomedir.so" in host.file("/etc/pam.d/common-session").content_string
