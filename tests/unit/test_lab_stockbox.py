"""The stock-machine boxes' recipe: how a box boots and what it is given (no box is started)."""

from pathlib import Path

from libraryops import paths
from libraryops.lab import stockbox


def test_a_box_boots_with_its_own_unified_hierarchy_and_every_capability(monkeypatch):
    monkeypatch.setattr(stockbox.owner, "kind", lambda: stockbox.owner.SUPERVISOR)
    box = stockbox.Box("13", Path("/s"))
    argv = stockbox.nspawn_command(box)
    assert argv[:2] == ["env", "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1"]
    for option in ("--boot", "--network-bridge=lostock0", "--capability=all",
                   "--machine=stock13", "--directory=/s/boxes/stock13/root",
                   "--bind-ro=/s/wheels/cp313:/opt/wheelhouse", "--register=no"):
        assert option in argv


def test_a_box_gets_apt_sources_of_the_harness_cache_and_an_offline_pip(tmp_path):
    box = stockbox.Box("12", tmp_path)
    (box.root / "etc/apt").mkdir(parents=True)
    (box.root / "etc/apt/sources.list").write_text("deb http://deb.debian.org/debian bookworm main")
    stockbox._write_identity(box)
    sources = (box.root / "etc/apt/sources.list.d/debian.sources").read_text()
    assert "URIs: http://10.124.0.1:3142/debian\nSuites: bookworm bookworm-updates\n" in sources
    assert "Suites: bookworm-security\n" in sources
    assert not (box.root / "etc/apt/sources.list").exists()
    assert "no-index = true" in (box.root / "etc/pip.conf").read_text()
    assert (box.root / "etc/resolv.conf").read_text() == ""  # no nameserver: nothing leaves
    assert "Address=10.124.0.12/24" in (box.root / "etc/systemd/network/10-host0.network"
                                        ).read_text()


def test_the_harness_never_shares_the_labs_bridge_or_subnet():
    assert stockbox.BRIDGE != "lolab0"
    assert not stockbox.INTERFACE.network.overlaps(
        stockbox.ipaddress.IPv4Network("10.123.0.0/24"))
    assert not stockbox.CGROUP_GROUP.startswith("libraryops")


def test_the_wheelhouse_holds_the_pins_and_the_build_backend_but_not_the_project():
    """A box installs requirements.txt offline; its ``-e .`` builds the box's own clone, so the
    wheelhouse needs the build backend, and never a copy of this checkout."""
    wanted = stockbox.wheel_requirements((paths.REPO / "requirements.txt").read_text(),
                                         (paths.REPO / "pyproject.toml").read_text())
    assert "-e ." in (paths.REPO / "requirements.txt").read_text().splitlines()
    assert not [line for line in wanted if line.startswith(("-e", "--editable"))]
    assert "pydantic==2.14.4" in wanted
    assert any(line.startswith("setuptools") for line in wanted)
