"""The asset register, the ledger's rules and the capital planning report (no hosts).

Fixtures in tests/unit/fixtures/assets/ are real outputs: Ansible's facts (hardware, network,
distribution; devices trimmed to the disk and two loop devices, interfaces to their hardware
keys) of the development VM, which has no firmware DMI (Ansible reports "NA"), smartctl
7.3's JSON for a virtio disk it cannot identify, and distro-info-data's Debian table
(0.58+deb12u6) rows for 12 and 13. qemu-dmi/ is what Debian's kernel exposed in
/sys/class/dmi/id of a QEMU guest given library-PC-like SMBIOS strings (its README says how
``python -m tools.fixtures.qemu_dmi`` made it); the tests run Ansible's own Linux hardware
collector over it, as root and as a non-root reader would see it. Only real hardware shows a
real vendor's strings, placeholders ("To Be Filled By O.E.M.") and chassis types.
"""

import csv
import datetime as dt
import io
import json
import os
import shutil

import pytest
from ansible.module_utils.facts.hardware import linux
from sites import EXAMPLE

from libraryops import asset_plan, asset_report, assets
from libraryops.inventory import load_site
from tools.fixtures import qemu_dmi

FIXTURES = EXAMPLE.parents[1] / "tests" / "unit" / "fixtures" / "assets"
DEV_VM = json.loads((FIXTURES / "development-vm.json").read_text())
SMARTCTL_UNKNOWN = json.loads((FIXTURES / "smartctl-virtio-disk.json").read_text())
DEBIAN_CSV = FIXTURES / "debian.csv"
QEMU_DMI = FIXTURES / "qemu-dmi"
TODAY = dt.date(2026, 12, 7)
#: Where Ansible's Linux hardware collector reads firmware DMI (ansible-core 2.19,
#: ansible/module_utils/facts/hardware/linux.py, LinuxHardware.get_dmi_facts).
DMI_SYSFS = "/sys/devices/virtual/dmi/id/"


def _ansible_dmi_facts(monkeypatch, root_only=()):
    """Ansible's own get_dmi_facts() over the QEMU guest's attributes: its reads of DMI_SYSFS
    go to the fixture; ``root_only`` files are refused as access(2) refuses a non-root reader
    the kernel's mode-400 files."""
    exists, access, read = os.path.exists, os.access, linux.get_file_content

    def moved(path):
        return str(QEMU_DMI / path.removeprefix(DMI_SYSFS)) if path.startswith(DMI_SYSFS) \
            else path

    monkeypatch.setattr(os.path, "exists", lambda path: exists(moved(path)))
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: access(
        path, mode, **kwargs) and not (os.path.dirname(path) == str(QEMU_DMI)
                                       and os.path.basename(path) in root_only))
    monkeypatch.setattr(linux, "get_file_content",
                        lambda path, *args, **kwargs: read(moved(path), *args, **kwargs))
    return linux.LinuxHardware(module=None).get_dmi_facts()


def test_a_machine_without_firmware_data_reports_unknown_and_its_own_hardware():
    record = assets.record_from_raw("dev", DEV_VM)
    assert (record["vendor"], record["model"], record["serial"]) == ("unknown",) * 3
    assert record["cpu"] == {"model": "AMD EPYC", "cores": 2}
    assert record["memory_mb"] == 24105
    assert record["os"] == {"id": "debian", "version": "12", "codename": "bookworm"}
    # vda only: loop devices are not disks; the kernel calls virtio disks rotational.
    assert record["disks"] == [{"name": "vda", "size_bytes": 274877906944, "type": "hdd",
                                "smart": "unknown"}]
    # eth0 only: the lab's veth pairs, its bridge and the ifb devices have no device behind them.
    assert record["interfaces"] == [{"name": "eth0", "kind": "wired", "mac": "02:fc:00:00:00:01"}]


def test_firmware_placeholders_are_unknown_and_real_strings_stay():
    raw = {"facts": {**DEV_VM["facts"], "system_vendor": "Dell Inc.",
                     "product_name": "To Be Filled By O.E.M.", "product_serial": " 5CD1234XYZ "}}
    record = assets.record_from_raw("pc", raw)
    assert (record["vendor"], record["model"], record["serial"]) == (
        "Dell Inc.", "unknown", "5CD1234XYZ")


def test_firmware_identity_from_a_kernel_s_dmi_through_ansible_s_collector(monkeypatch):
    facts = _ansible_dmi_facts(monkeypatch)
    # QEMU's chassis type is always 1, "Other" (a real PC says Desktop, Mini Tower, ...).
    assert (facts["form_factor"], facts["product_uuid"]) == (
        "Other", "4c4c4544-0035-4310-8031-b5c04f585a59")
    record = assets.record_from_raw("main-pub-01", {"facts": {**DEV_VM["facts"], **facts}})
    assert (record["vendor"], record["model"], record["serial"]) == (
        "Dell Inc.", "OptiPlex 7010", "5CD1234XYZ")


def test_a_serial_only_root_may_read_is_unknown_to_a_non_root_collector(monkeypatch):
    assert "| `product_serial` | 400 |" in (QEMU_DMI / "README.md").read_text()
    facts = _ansible_dmi_facts(monkeypatch, root_only={"product_serial"})
    assert facts["product_serial"] == "NA"
    record = assets.record_from_raw("main-pub-01", {"facts": {**DEV_VM["facts"], **facts}})
    assert (record["vendor"], record["model"], record["serial"]) == (
        "Dell Inc.", "OptiPlex 7010", "unknown")


def test_the_generator_finds_its_block_behind_the_firmware_s_terminal_escapes():
    console = ("Booting from ROM..\x1bc\x1b[2J@@DMI-BEGIN@@\r\nsys_vendor=Dell Inc.\r\n"
               "uevent=MODALIAS=dmi:svnDellInc.:\r\n@@DMI-END@@\r\n")
    assert qemu_dmi.between(console, qemu_dmi.BEGIN, qemu_dmi.END) == {
        "sys_vendor": "Dell Inc.", "uevent": "MODALIAS=dmi:svnDellInc.:"}
    with pytest.raises(ValueError, match="no @@DMI-MODES-BEGIN@@"):
        qemu_dmi.between(console, qemu_dmi.MODES_BEGIN, qemu_dmi.MODES_END)


def test_smart_verdicts():
    assert assets.smart_health([SMARTCTL_UNKNOWN]) == {}  # no verdict: unknown
    # The two verdict shapes smartctl --json gives (smartctl(8): smart_status.passed).
    documents = [{"device": {"name": "/dev/sda"}, "smart_status": {"passed": True}},
                 {"device": {"name": "/dev/nvme0n1"}, "smart_status": {"passed": False}}]
    assert assets.smart_health(documents) == {"sda": "PASSED", "nvme0n1": "FAILED"}


def test_collect_keeps_first_seen_and_moves_last_seen(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "main-pub-01.json").write_text(json.dumps(DEV_VM))
    site = tmp_path / "site"
    assert assets.collect(site, raw, TODAY) == ["main-pub-01"]
    assert assets.collect(site, raw, TODAY) == []  # same day, same facts: the file is untouched
    assert assets.collect(site, raw, TODAY + dt.timedelta(days=1)) == ["main-pub-01"]
    record = assets.load_register(site)["main-pub-01"]
    assert (record["first_seen"], record["last_seen"]) == ("2026-12-07", "2026-12-08")
    text = assets.register_path(site, "main-pub-01").read_text()
    assert text == json.dumps(record, indent=2, sort_keys=True) + "\n"  # diff-friendly


def test_a_damaged_register_file_is_named(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "pc.json").write_text("[1, 2")
    with pytest.raises(ValueError, match=r"assets/pc.json: not a register record"):
        assets.load_register(tmp_path)


@pytest.mark.parametrize(("day", "start", "year"), [
    ("2026-06-30", "07-01", 2026), ("2026-07-01", "07-01", 2027), ("2026-12-31", "01-01", 2026),
    ("2027-01-01", "01-01", 2027), ("2026-09-30", "10-01", 2026), ("2026-10-01", "10-01", 2027)])
def test_fiscal_years_are_named_by_the_year_they_end_in(day, start, year):
    assert asset_plan.fiscal_year(dt.date.fromisoformat(day), start) == year


def test_years_of_service_from_29_february():
    assert asset_plan.add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)


def test_debian_support_comes_from_distro_info_data():
    assert asset_plan.debian_support("12", DEBIAN_CSV) == {
        "eol": dt.date(2026, 7, 11), "eol_lts": dt.date(2028, 6, 30)}
    assert asset_plan.debian_support("99", DEBIAN_CSV) == {"eol": None, "eol_lts": None}
    installed = asset_plan.debian_support("12")  # the controller's own table
    assert installed["eol"] is not None and installed["eol_lts"] is not None


def _seen(version: str) -> dict:
    record = assets.record_from_raw("x", DEV_VM)
    record["os"]["version"] = version
    return {**record, "first_seen": "2026-01-05", "last_seen": "2026-12-06"}


@pytest.fixture(scope="module")
def example_site():
    return load_site(EXAMPLE)


def test_the_example_forecast_follows_the_stated_rules(example_site):
    """Public PCs 2021-08-16 + 5 years: FY2027 (the current one, from 2026-07-01). East's two,
    2024-02-12 + 5 = 2029-02-12, but one runs Debian 12, whose LTS ends 2028-06-30: FY2028.
    Staff machines 2023-09-01 + 5: FY2029. Access points: no purchase date, unknown age."""
    register = {"east-pub-01": _seen("12"), "east-pub-02": _seen("13"),
                "old-pc-07": _seen("12")}
    found = asset_plan.machines(example_site, register, TODAY, DEBIAN_CSV)
    by_host = {m.host: m for m in found}
    assert (by_host["east-pub-01"].due, by_host["east-pub-01"].reason) == (
        dt.date(2028, 6, 30), "Debian 12 LTS ends")
    assert (by_host["east-pub-02"].due_year, by_host["east-pub-02"].reason) == (
        2029, "5 years of service")
    assert by_host["old-pc-07"].branch == "(not in the inventory)"
    plan = asset_plan.forecast(example_site, found, TODAY)
    assert plan.years == [2027, 2028, 2029, 2030, 2031]
    assert plan.rows[("main", "public_pc")] == {2027: (4, 3400.0)}
    assert plan.rows[("east", "public_pc")] == {2028: (1, 850.0), 2029: (1, 850.0)}
    assert plan.rows[("main", "staff_machine")] == {2029: (2, 2300.0)}
    assert sorted(m.host for m in plan.unknown_age) == ["east-ap-01", "main-ap-01"]
    assert plan.overdue == []
    assert plan.totals() == {2027: 3400.0, 2028: 850.0, 2029: 850.0 + 2300.0 + 1150.0,
                             2030: 0, 2031: 0}


def test_a_machine_due_in_a_past_year_is_overdue_and_counted_now(example_site):
    found = asset_plan.machines(example_site, {}, dt.date(2029, 12, 1), DEBIAN_CSV)
    plan = asset_plan.forecast(example_site, found, dt.date(2029, 12, 1))
    assert plan.years[0] == 2030
    assert {m.host for m in plan.overdue} >= {"main-pub-01", "east-pub-01", "main-staff-01"}
    assert plan.rows[("main", "public_pc")] == {2030: (4, 3400.0)}


def test_the_reports(example_site, tmp_path, monkeypatch):
    site = tmp_path / "example"
    shutil.copytree(EXAMPLE, site)
    (site / "assets").mkdir()
    for host in ("main-pub-01", "main-staff-01", "retired-pc-03"):
        record = {**_seen("12"), "host": host, "serial": "5CD1234XYZ", "vendor": "HP"}
        record["disks"][0]["smart"] = "FAILED"
        assets.register_path(site, host).write_text(json.dumps(record))
    written = asset_report.write_reports(site, tmp_path / "out", TODAY)
    html = written[0].read_text()
    for section in ("forecast", "unknown-age", "warranties", "smart", "os-support",
                    "ledger-check"):
        assert f'id="{section}"' in html
    assert "data:image/svg+xml;base64," in html
    assert "retired-pc-03 (last seen 2026-12-06)" in html
    assert "<td>main-staff-01</td><td>main</td><td>2027-09-01</td>" in html  # warranty soon
    assert "2026-07-11 (ended)" in html  # Debian 12's regular security support
    assert "<script" not in html
    forecast = list(csv.DictReader(io.StringIO(written[1].read_text())))
    assert {"branch": "main", "class": "public_pc", "fiscal_year": "FY2027", "due": "4",
            "estimated_cost": "3400.00", "currency": "USD"} in forecast
    rows = list(csv.DictReader(io.StringIO(written[2].read_text())))
    assert tuple(rows[0]) == asset_report.SNIPEIT_COLUMNS
    pc = next(r for r in rows if r["Name"] == "east-pub-02")
    assert (pc["Asset Tag"], pc["Purchase Date"], pc["Purchase Cost"], pc["Warranty Months"],
            pc["Category"], pc["Location"]) == ("RPL-0202", "2024-02-12", "879.0", "36",
                                                "Public PC", "east")
    assert "retired-pc-03" not in {r["Name"] for r in rows}
