"""Rewrite the shipped region and service tag lists from Azure's own answers (``make azure-lists``).

``make validate`` checks azure.yml's ``location`` and the service tags of its NSG rules against
``libraryops/data/azure_regions.json`` and ``azure_service_tags.json``
(:mod:`libraryops.cloud.arm_limits`). Azure adds regions and tags; the Technology Manager
refreshes the files from one of these, on a machine with Azure access, then commits them::

    az account list-locations -o json > locations.json          # signed in with `az login`
    make azure-lists LOCATIONS=locations.json [CLOUD=AZURE_US_GOVERNMENT]

    # the weekly "Azure IP Ranges and Service Tags - Public Cloud" JSON
    # (www.microsoft.com/download/details.aspx?id=56519), or, signed in:
    az network list-service-tags --location eastus -o json > ServiceTags_Public.json
    make azure-lists SERVICE_TAGS=ServiceTags_Public.json

Both inputs are read as files: this module contacts nothing. ``az account list-locations`` gives
a JSON list of ``{"name", "displayName", "metadata": {"regionType": "Physical"|"Logical"}}``
(logical regions such as ``europe`` hold no resources and are left out). The service tag file
is ``{"changeNumber", "cloud", "values": [{"name", "properties": {"region", ...}}]}``: a value
with an empty ``region`` is a tag valid as it is; ``<tag>.<Region>`` values with a region make
``<tag>`` regional. The virtual tags the file never lists (:data:`VIRTUAL_TAGS`) are kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from azure.core import AzureClouds

from libraryops.cloud import arm_limits

#: Tags NSG rules take that name no address range of the download (Microsoft Learn, "Virtual
#: network service tags": Internet, VirtualNetwork, AzureLoadBalancer and the platform tags).
VIRTUAL_TAGS = ("Internet", "VirtualNetwork", "AzureLoadBalancer", "AzurePlatformDNS",
                "AzurePlatformIMDS", "AzurePlatformLKM")


class ListError(ValueError):
    """An input file that is not what its option expects; the message names the file."""


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ListError(f"{path}: not a readable JSON file ({type(exc).__name__})") from None


def regions_from_locations(locations: Any, source: str) -> dict[str, str]:
    """The physical regions of ``az account list-locations -o json`` output.

    Args:
        locations: the parsed JSON (a list of objects with ``name`` and ``displayName``).
        source: the file, for messages.
    Returns:
        region name -> display name, sorted by name.
    Raises:
        ListError: not a list of locations, or no physical region in it.
    """
    if not isinstance(locations, list):
        raise ListError(f"{source}: not a list of locations (allowed: the output of "
                        "`az account list-locations -o json`)")
    regions = {}
    for item in locations:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ListError(f"{source}: a location without a name")
        kind = (item.get("metadata") or {}).get("regionType", "Physical")
        if kind == "Physical":
            regions[item["name"]] = str(item.get("displayName") or item["name"])
    if not regions:
        raise ListError(f"{source}: no physical region")
    return dict(sorted(regions.items()))


def tags_from_download(download: Any, source: str) -> dict[str, Any]:
    """The tag lists of a service tag file (the weekly download or
    ``az network list-service-tags`` output).

    Args:
        download: the parsed JSON.
        source: the file, for messages.
    Returns:
        ``{"cloud", "change_number", "tags", "regional", "region_suffixes"}`` as stored in
        ``azure_service_tags.json`` (lists sorted without case).
    Raises:
        ListError: no ``values`` list of named tags.
    """
    values = download.get("values") if isinstance(download, dict) else None
    if not isinstance(values, list) or not values:
        raise ListError(f"{source}: no 'values' list (allowed: the 'Azure IP Ranges and Service "
                        "Tags' JSON, or `az network list-service-tags -o json` output)")
    tags, regional, suffixes = set(VIRTUAL_TAGS), set(), set()
    for value in values:
        name = value.get("name") if isinstance(value, dict) else None
        if not isinstance(name, str) or not name:
            raise ListError(f"{source}: a value without a name")
        region = (value.get("properties") or {}).get("region") or ""
        base, dot, suffix = name.rpartition(".")
        if region and dot:
            regional.add(base)
            suffixes.add(suffix.casefold())
        else:
            tags.add(name)
    return {"cloud": download.get("cloud"), "change_number": download.get("changeNumber"),
            "tags": sorted(tags, key=str.casefold),
            "regional": sorted(regional, key=str.casefold),
            "region_suffixes": sorted(suffixes)}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def refresh(*, locations: Path | None = None, cloud: str = "AZURE_PUBLIC_CLOUD",
            service_tags: Path | None = None, data_dir: Path = arm_limits.DATA,
            today: datetime.date | None = None) -> list[str]:
    """Rewrite the lists in ``data_dir`` from the given files; returns one line per file written.

    Args:
        locations: ``az account list-locations -o json`` output, for the regions of ``cloud``
            (an ``azure.core.AzureClouds`` name); the other clouds' regions stay.
        service_tags: the downloaded service tag JSON (or ``az network list-service-tags``).
        data_dir: where ``azure_regions.json`` and ``azure_service_tags.json`` are.
        today: the date recorded as ``compiled`` (default: today, UTC).
    Raises:
        ListError: an unreadable or unexpected input, or an unknown cloud.
    """
    date = (today or datetime.datetime.now(datetime.UTC).date()).isoformat()
    done = []
    if locations is not None:
        if cloud not in AzureClouds.__members__:
            raise ListError(f"CLOUD={cloud}: not an Azure cloud (allowed: "
                            f"{', '.join(AzureClouds.__members__)})")
        regions = regions_from_locations(_read(locations), str(locations))
        path = data_dir / arm_limits.REGIONS_FILE.name
        data = json.loads(path.read_text(encoding="utf-8"))
        data["clouds"][cloud] = regions
        data["compiled"] = date
        data["compiled_how"] = (f"{cloud} refreshed from `az account list-locations` output "
                                f"({locations.name}) by libraryops.cloud.refresh_lists")
        _write(path, data)
        done.append(f"{path.name}: {len(regions)} regions of {cloud}")
    if service_tags is not None:
        lists = tags_from_download(_read(service_tags), str(service_tags))
        path = data_dir / arm_limits.SERVICE_TAGS_FILE.name
        data = json.loads(path.read_text(encoding="utf-8"))
        data.update(lists, compiled=date, compiled_how=(
            f"refreshed from {service_tags.name} (cloud {lists['cloud']}, change number "
            f"{lists['change_number']}) by libraryops.cloud.refresh_lists"))
        _write(path, data)
        done.append(f"{path.name}: {len(lists['tags'])} tags, {len(lists['regional'])} regional")
    return done


def main(argv: list[str] | None = None) -> int:
    """``python -m libraryops.cloud.refresh_lists``: exit 0 written, 2 nothing to do or a bad
    input (one line on stderr, never a traceback)."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.cloud.refresh_lists",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--locations", type=Path,
                        help="output of `az account list-locations -o json`")
    parser.add_argument("--cloud", default="AZURE_PUBLIC_CLOUD",
                        help="the cloud those locations are of (default AZURE_PUBLIC_CLOUD)")
    parser.add_argument("--service-tags", type=Path,
                        help="the downloaded 'Azure IP Ranges and Service Tags' JSON file")
    parser.add_argument("--data-dir", type=Path, default=arm_limits.DATA, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.locations is None and args.service_tags is None:
        print("azure-lists: nothing to read (allowed: LOCATIONS=<file> and/or "
              "SERVICE_TAGS=<file>; see libraryops/cloud/refresh_lists.py)", file=sys.stderr)
        return 2
    try:
        done = refresh(locations=args.locations, cloud=args.cloud,
                       service_tags=args.service_tags, data_dir=args.data_dir)
    except ListError as exc:
        print(f"azure-lists: {exc}", file=sys.stderr)
        return 2
    for line in done:
        print(f"azure-lists: {line} (commit libraryops/data/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
