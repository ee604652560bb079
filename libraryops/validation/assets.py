"""The asset ledger (``make assets``): the site's replacement policy and each machine's purchase
data (:mod:`libraryops.asset_plan`'s models), checked on every host before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from libraryops.asset_plan import AssetLedgerModel, AssetPolicyModel
from libraryops.validation.base import Problem, Site, model_checker

#: The site's policy belongs in group_vars/all/assets.yml.
check_asset_policy = model_checker(AssetPolicyModel, "assets.yml")


def check_asset_ledger(site: Site) -> Iterator[Problem]:
    """Each host's ledger entry (:class:`AssetLedgerModel`); a value belongs in
    host_vars/<host>/assets.yml, or with its purchase batch's group."""
    expected = site.files.path / "host_vars"
    yield from site.model_problems(AssetLedgerModel, sorted(site.inventory.hosts), expected)
