"""Role updates: apt's and systemd's own views of the update settings, and a dry run.

The schedule check reads the apt timers' calendars back from the host's systemd and expands them
with its own ``systemd-analyze calendar``; the patch windows and opening hours they are compared
with come from :class:`libraryops.hours.BranchHours` (the inventory), not from the role."""

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


def _loaded_instants(host, timer, systemd_instants, start, end):
    """The instants in [start, end) at which ``timer``'s calendar, as systemd loaded it
    (``systemctl show -P TimersCalendar``), elapses, per the host's ``systemd-analyze``."""
    loaded = host.check_output(f"systemctl show -P TimersCalendar {timer}")
    expressions = re.findall(r"\{ OnCalendar=(.*?) ; next_elapse=", loaded)
    assert expressions, loaded
    return sorted(at for instants in systemd_instants(expressions, start, end).values()
                  for at in instants if start <= at < end)


def test_apt_timers_run_in_the_branchs_patch_window_and_nowhere_during_opening_hours(
        host, hours, window, systemd_instants, role_vars):
    """Two weeks around a closed day: the download fires as each opening day's patch window
    opens, the upgrade after the download's longest random delay and before the window closes;
    any other firing falls on a closure date (the building is closed; public PCs are off),
    never in opening hours."""
    delay = dt.timedelta(minutes=role_vars("updates")["updates__download_randomized_delay_minutes"])
    _, start, end = window
    windows = {}
    for event in hours.events(start - dt.timedelta(days=1), end):
        if event.kind in ("patch_start", "patch_end"):
            windows.setdefault(event.day, {})[event.kind] = event.at.astimezone(UTC)
    windows = {day: (w["patch_start"], w["patch_end"]) for day, w in windows.items()
               if len(w) == 2 and start <= w["patch_start"] and w["patch_end"] <= end}
    closures = {c.date for c in hours.branch__closures}
    assert windows and closures
    download = _loaded_instants(host, "apt-daily.timer", systemd_instants, start, end)
    upgrade = _loaded_instants(host, "apt-daily-upgrade.timer", systemd_instants, start, end)
    for day, (opens, closes) in windows.items():
        assert [at for at in download if opens <= at < closes] == [opens], day
        fired = [at for at in upgrade if opens <= at < closes]
        assert fired == [opens + delay] and opens + delay < closes, day
    for at in download + upgrade:
        assert not hours.is_open(at), at
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
