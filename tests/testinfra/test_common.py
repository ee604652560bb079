"""Role common: journald limits (systemd's merged view), the login banner, and the OS hardening
parts, each asked of the program that applies it (sysctl, a real SSH login's ulimit and umask,
systemd, useradd, modprobe)."""

import pytest

testinfra_hosts = ["ansible://all"]


def test_journald_limits_are_the_inventory_ones(host, role_vars):
    settings = role_vars("common")
    values = {}
    for line in host.check_output("systemd-analyze cat-config systemd/journald.conf").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    assert values["Storage"] == settings["common__journald_storage"]
    assert values["SystemMaxUse"] == settings["common__journald_system_max_use"]
    assert values["MaxRetentionSec"] == settings["common__journald_max_retention"]


def test_login_banner_is_the_inventory_one(host, role_vars):
    banner = role_vars("common")["common__login_banner"]
    for path in ("/etc/issue", "/etc/issue.net"):
        assert host.file(path).content_string == banner


def _enabled(settings, part):
    if not settings[f"common__{part}_enabled"]:
        pytest.skip(f"common__{part}_enabled is off in the inventory")


def test_network_sysctls_are_in_force(host, role_vars):
    settings = role_vars("common")
    _enabled(settings, "network_sysctls")
    for key, value in settings["common__network_sysctls"].items():
        assert host.check_output(f"sysctl -n {key}") == str(value), key


def test_no_core_dumps_for_logins_or_services(host, role_vars, controller_ssh, inventory_vars):
    _enabled(role_vars("common"), "core_dumps_off")
    login = controller_ssh(inventory_vars["ansible_user"], command="ulimit -H -c")
    assert login.returncode == 0 and login.stdout.strip() == "0", login.stderr
    assert host.check_output("systemctl show -p DefaultLimitCORE --value") == "0"


def test_sessions_mask_others_and_the_engines_keep_022(host, role_vars, controller_ssh,
                                                       inventory_vars):
    _enabled(role_vars("common"), "umask")
    login = controller_ssh(inventory_vars["ansible_user"], command="umask")
    assert login.returncode == 0, login.stderr
    assert int(login.stdout, 8) & 0o007 == 0o007, login.stdout  # others get nothing
    # The engines' commands (sudo, the accounts role's umask_override) still create 022 files.
    assert host.check_output("umask") == "0022"


def test_useradd_makes_homes_with_the_login_defs_mode(host, role_vars):
    settings = role_vars("common")
    _enabled(settings, "login_defs")
    probe = "libraryops-probe"
    try:
        host.run_expect([0], f"useradd -m {probe}")
        mode = int(settings["common__login_defs"]["HOME_MODE"], 8)
        assert host.file(f"/home/{probe}").mode == mode
    finally:
        host.run(f"userdel -r {probe}")


def test_unused_filesystem_modules_do_not_load(host, role_vars):
    settings = role_vars("common")
    _enabled(settings, "filesystem_modules")
    for fs in settings["common__disabled_filesystems"]:
        # modprobe's own dry run: the rule replaces loading with /bin/false.
        assert "install /bin/false" in host.check_output(f"modprobe -n -v {fs}"), fs
