"""The stock-machine boxes' recipe: how a box boots and what it is given (no box is started)."""

from pathlib import Path

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
