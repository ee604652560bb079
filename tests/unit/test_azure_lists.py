"""The shipped region and service tag lists, and their refresh from Azure's files (no network)."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from libraryops.cloud import arm_limits, refresh_lists

FIXTURES = Path(__file__).parent / "fixtures" / "azure_lists"
DOWNLOAD = FIXTURES / "ServiceTags_Public_20261207.json"
LOCATIONS = FIXTURES / "locations.json"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A copy of libraryops/data's lists that arm_limits reads instead of the shipped ones."""
    for path in (arm_limits.REGIONS_FILE, arm_limits.SERVICE_TAGS_FILE):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(arm_limits, "REGIONS_FILE", tmp_path / arm_limits.REGIONS_FILE.name)
    monkeypatch.setattr(arm_limits, "SERVICE_TAGS_FILE",
                        tmp_path / arm_limits.SERVICE_TAGS_FILE.name)
    arm_limits.service_tags.cache_clear()
    arm_limits._regions.cache_clear()
    yield tmp_path
    arm_limits.service_tags.cache_clear()
    arm_limits._regions.cache_clear()


@pytest.mark.parametrize("path", [arm_limits.REGIONS_FILE, arm_limits.SERVICE_TAGS_FILE])
def test_each_shipped_list_says_where_it_comes_from_when_and_how_to_refresh_it(path):
    data = json.loads(path.read_text())
    assert "learn.microsoft.com" in data["source"]
    datetime.date.fromisoformat(data["compiled"])
    assert "make azure-lists" in data["refresh"]


def test_the_shipped_lists_hold_the_names_the_field_uses():
    for tag in ["AzureCloud", "Internet", "VirtualNetwork", "AzureLoadBalancer", "Storage", "Sql",
                "AzureMonitor", "AzureActiveDirectory", "Storage.WestEurope", "Sql.EastUS"]:
        assert arm_limits.is_service_tag(tag), tag
    for location in ["eastus", "westeurope", "northeurope", "uksouth", "East US 2"]:
        assert arm_limits.location_problem(location, "AZURE_PUBLIC_CLOUD") is None, location


def test_the_download_rewrites_the_service_tags(data_dir, capsys):
    assert not arm_limits.is_service_tag("BrandNewService")
    assert refresh_lists.main(["--service-tags", str(DOWNLOAD), "--data-dir", str(data_dir)]) == 0
    assert "azure_service_tags.json: 10 tags, 2 regional" in capsys.readouterr().out
    data = json.loads((data_dir / "azure_service_tags.json").read_text())
    # the file's tags without a region, and the virtual tags the download never lists
    assert data["tags"] == ["AzureCloud", "AzureFrontDoor.Backend", "AzureLoadBalancer",
                            "AzurePlatformDNS", "AzurePlatformIMDS", "AzurePlatformLKM",
                            "BrandNewService", "Internet", "Storage", "VirtualNetwork"]
    assert data["regional"] == ["AzureCloud", "Storage"]
    assert data["region_suffixes"] == ["newregion9", "westeurope"]
    assert (data["change_number"], data["cloud"]) == (321, "Public")
    assert "ServiceTags_Public_20261207.json" in data["compiled_how"]
    assert data["source"].startswith("Microsoft Learn")  # the header stays
    arm_limits.service_tags.cache_clear()
    assert arm_limits.is_service_tag("BrandNewService")
    assert arm_limits.is_service_tag("Storage.NewRegion9")  # a suffix only the download knows
    assert not arm_limits.is_service_tag("Sql.WestEurope")  # no longer in the (small) download


def test_the_locations_rewrite_one_clouds_regions(data_dir):
    before = json.loads((data_dir / "azure_regions.json").read_text())
    assert refresh_lists.refresh(locations=LOCATIONS, data_dir=data_dir,
                                 today=datetime.date(2027, 1, 4)) == [
        "azure_regions.json: 2 regions of AZURE_PUBLIC_CLOUD"]
    data = json.loads((data_dir / "azure_regions.json").read_text())
    assert data["clouds"]["AZURE_PUBLIC_CLOUD"] == {"eastus": "East US",
                                                    "newregion9": "New Region 9"}
    assert data["clouds"]["AZURE_CHINA_CLOUD"] == before["clouds"]["AZURE_CHINA_CLOUD"]
    assert data["compiled"] == "2027-01-04" and data["source"] == before["source"]
    assert arm_limits.location_problem("New Region 9", "AZURE_PUBLIC_CLOUD") is None
    assert arm_limits.location_problem("europe", "AZURE_PUBLIC_CLOUD")  # logical: no resources


@pytest.mark.parametrize(("args", "message"), [
    ([], "nothing to read"),
    (["--service-tags", str(LOCATIONS)], "no 'values' list"),
    (["--locations", str(DOWNLOAD)], "not a list of locations"),
    (["--locations", str(LOCATIONS), "--cloud", "AzureMoon"], "not an Azure cloud"),
    (["--service-tags", "/nonexistent/ServiceTags.json"], "not a readable JSON file")])
def test_a_wrong_input_is_one_line_and_exit_2(data_dir, capsys, args, message):
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    assert refresh_lists.main([*args, "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("azure-lists: ") and message in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before
