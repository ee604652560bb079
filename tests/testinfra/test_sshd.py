"""Role sshd: the effective sshd settings, read from sshd's own view (sshd -T)."""

testinfra_hosts = ["ansible://all"]

# sshd -T prints PermitRootLogin prohibit-password under its older name.
_SSHD_T_NAMES = {"prohibit-password": "without-password", "no": "no"}


def _effective(host):
    lines = host.check_output("sshd -T").splitlines()
    return dict(line.split(" ", 1) for line in lines if " " in line)


def test_sshd_effective_settings_match_inventory(host, role_vars):
    settings = role_vars("sshd")
    effective = _effective(host)
    assert effective["permitrootlogin"] == _SSHD_T_NAMES[settings["sshd__permit_root_login"]]
    expected_password = "yes" if settings["sshd__password_authentication"] else "no"
    assert effective["passwordauthentication"] == expected_password
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["permitemptypasswords"] == "no"


def test_sshd_is_running_with_the_dropin(host, role_vars):
    assert host.service("ssh").is_running
    dropin = host.file(role_vars("sshd")["sshd__dropin_path"])
    assert dropin.user == "root" and dropin.mode == 0o644
