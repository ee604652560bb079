"""Role updates: apt's and systemd's own views of the update settings, and a dry run.

The schedule check asks the host's systemd through the schedule verifier
(:class:`libraryops.timers.HostTimers`: the apt timers' calendars as loaded, expanded by the
host's ``systemd-analyze calendar``, the services' own conditions) over the whole sweep of the
calendar; the patch windows and opening hours they are compared with come from
:class:`libraryops.hours.BranchHours` (the inventory), not from the role."""

import datetime as dt
import re

UTC = dt.UTC

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


def test_apt_timers_run_in_the_branchs_patch_window_and_nowhere_during_opening_hours(
        hours, sweep, timers, role_vars):
    """Over the whole sweep (weeks around now, closures, DST changes, year ends), as the host's
    systemd says: the download fires as each opening day's patch window opens, the upgrade
    after the download's longest random delay and before the window closes; any other firing
    falls on a closure date (the building is closed; public PCs are off), never in opening
    hours."""
    delay = dt.timedelta(minutes=role_vars("updates")["updates__download_randomized_delay_minutes"])
    windows = {}
    for start, end in sweep:
        for event in hours.events(start - dt.timedelta(days=1), end):
            if event.kind in ("patch_start", "patch_end"):
                windows.setdefault(event.day, {})[event.kind] = event.at.astimezone(UTC)
    windows = {day: (w["patch_start"], w["patch_end"]) for day, w in windows.items()
               if len(w) == 2 and any(a <= w["patch_start"] and w["patch_end"] <= b
                                      for a, b in sweep)}
    closures = {c.date for c in hours.branch__closures}
    assert windows
    reports = timers.reports(["apt-daily.timer", "apt-daily-upgrade.timer"], sweep)
    assert not [r.failures() for r in reports.values() if r.failures()]
    download = reports["apt-daily.timer"].acting()
    upgrade = reports["apt-daily-upgrade.timer"].acting()
    for day, (opens, closes) in windows.items():
        assert [at for at in download if opens <= at < closes] == [opens], day
        fired = [at for at in upgrade if opens <= at < closes]
        assert fired == [opens + delay] and opens + delay < closes, day
    for at in download + upgrade:
        assert not hours.is_open(at) or hours.always_open, at
        if not any(opens <= at < closes for opens, closes in windows.values()):
            local = hours.local(at).date()
            assert {local, local - dt.timedelta(days=1)} & closures, at


def test_apt_timers_add_only_the_download_delay_and_never_catch_up_unless_told(host, role_vars):
    settings = role_vars("updates")
    delay = settings["updates__download_randomized_delay_minutes"]
    assert host.check_output("systemctl show -P RandomizedDelayUSec apt-daily.timer") == (
        f"{delay}min" if delay else "0")
    assert host.check_output("systemctl show -P RandomizedDelayUSec apt-daily-upgrade.timer") \
        == "0"
    persistent = "yes" if settings["updates__catch_up_missed_runs"] else "no"
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert host.check_output(f"systemctl show -P Persistent {timer}") == persistent
        assert host.service(timer).is_enabled
