"""`make doctor`: one line per prerequisite, the fix on each missing one, no traceback."""

import subprocess
import sys

from libraryops import doctor, paths


def test_the_lab_settings_are_read_from_the_lab_site_without_yaml():
    settings = doctor._lab_settings()
    assert settings["lab__bridge_address"] == "10.123.0.1/24"
    assert settings["lab__state_dir"] == "/var/lib/libraryops-lab"


def test_controller_checks_pass_with_this_python():
    checks = doctor.controller_checks()
    assert [what for what, _, _ in checks] == ["python3 >= 3.11", "python3-venv", "make", "git",
                                               "wireless-regdb",
                                               "distro-info-data (make assets)"]
    assert all(ok for _, ok, _ in checks), checks


def test_a_missing_regulatory_database_names_its_package(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor.regdb, "DEFAULT_PATH", tmp_path / "regulatory.db")
    regdb_check = next(c for c in doctor.controller_checks() if c[0] == "wireless-regdb")
    assert regdb_check[1] is False and "apt-get install wireless-regdb" in regdb_check[2]


def test_missing_release_dates_name_their_package(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor.paths, "DEBIAN_RELEASES", tmp_path / "debian.csv")
    check = next(c for c in doctor.controller_checks() if c[0].startswith("distro-info-data"))
    assert check[1] is False and "apt-get install distro-info-data" in check[2]


def test_a_missing_program_names_its_package_and_the_make_target(monkeypatch):
    monkeypatch.setattr(doctor, "_which", lambda name: None if name == "mmdebstrap" else "/x")
    programs = next(c for c in doctor.lab_checks() if c[0] == "lab programs")
    assert programs[1] is False
    assert "missing mmdebstrap: make deps-lab" in programs[2]
    assert "apt-get install mmdebstrap" in programs[2]


def test_quiet_prints_only_missing_lines_and_exits_1(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "KINDS", {"controller": lambda: [
        ("make", True, "/usr/bin/make"), ("git", False, "apt-get install git")]})
    assert doctor.main(["--quiet"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "  missing  git: apt-get install git\n" in captured.err
    assert doctor.main([]) == 1
    assert "  ok       make: /usr/bin/make" in capsys.readouterr().out


def test_it_runs_with_the_system_python_before_make_deps():
    """Stdlib only: the doctor and the modules it asks must import without the venv, started
    the Makefile's way (``python3 -m libraryops.doctor`` in the clone, which ``-m`` searches;
    ``-E -s``: no environment variables, no user site)."""
    proc = subprocess.run(
        ["/usr/bin/python3", "-E", "-s", "-m", "libraryops.doctor", "--help"],
        cwd=paths.REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sys.version_info >= (3, 11)
