"""Role updates: apt's and systemd's own views of the update settings, and a dry run."""

import re

testinfra_hosts = ["ansible://all"]


def _apt_config(host):
    """``apt-config dump`` as {key: [values]} (list items appear as ``Key:: "value"``)."""
    found = {}
    for line in host.check_output("apt-config dump").splitlines():
        match = re.fullmatch(r'(\S+?)(::)? "(.*)";', line)
        if match:
            found.setdefault(match[1], []).append(match[3])
    return found


def test_apt_waits_for_the_dpkg_lock(host, role_vars):
    config = _apt_config(host)
    assert config["DPkg::Lock::Timeout"] == [str(role_vars("updates")["updates__lock_timeout"])]


def test_unattended_upgrades_settings_are_the_inventory_ones(host, role_vars):
    settings = role_vars("updates")
    config = _apt_config(host)
    origins = [v for v in config["Unattended-Upgrade::Origins-Pattern"] if v]
    assert origins == settings["updates__origins_patterns"]
    assert config["Unattended-Upgrade::Automatic-Reboot"] == [
        "true" if settings["updates__automatic_reboot"] else "false"]
    assert config["Unattended-Upgrade::Automatic-Reboot-Time"] == [settings["updates__reboot_time"]]
    assert config["APT::Periodic::Unattended-Upgrade"] == ["1"]


def test_unattended_upgrades_dry_run_is_clean(host):
    run = host.run("unattended-upgrades --dry-run")
    assert run.rc == 0, run.stdout + run.stderr
    assert "ERROR" not in run.stdout + run.stderr


def test_apt_timers_follow_the_inventory_schedule(host, role_vars):
    settings = role_vars("updates")
    for timer, key in (("apt-daily.timer", "updates__download_on_calendar"),
                       ("apt-daily-upgrade.timer", "updates__upgrade_on_calendar")):
        normalized = re.search(r"Normalized form: (.*)", host.check_output(
            f"systemd-analyze calendar '{settings[key]}'"))[1]
        loaded = host.check_output(f"systemctl show {timer} -p TimersCalendar --value")
        assert f"OnCalendar={normalized} " in loaded, loaded
        assert host.service(timer).is_enabled
