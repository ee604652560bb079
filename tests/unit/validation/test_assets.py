"""``make validate`` for the asset ledger (``make assets``): the site's replacement policy and
each machine's purchase data, each bad input named by file and key.
"""

import pytest
from sites import edit

ALL_ASSETS = "group_vars/all/assets.yml"
PCS_ASSETS = "group_vars/public_pcs/assets.yml"


def _change(file, old, new):
    return lambda site: edit(site, file, old, new)


BAD = {
    "fiscal year starting on no day": (
        _change(ALL_ASSETS, '"07-01"', '"13-01"'),
        [(ALL_ASSETS, "assets__fiscal_year_start", "not a month and day")]),
    "zero years of service": (
        _change(ALL_ASSETS, "public_pc: 5", "public_pc: 0"),
        [(ALL_ASSETS, "assets__replacement_years", "years of service out of range")]),
    "a price for a class that does not exist": (
        _change(ALL_ASSETS, "  server: 2800", "  server: 2800\n  kiosk: 10"),
        [(ALL_ASSETS, "assets__prices", "kiosk is not a machine class")]),
    "a currency in lower case": (
        _change(ALL_ASSETS, "USD", "usd"),
        [(ALL_ASSETS, "assets__currency", "ISO 4217")]),
    "a purchase date in month 13": (
        _change(PCS_ASSETS, '"2021-08-16"', '"2021-13-16"'),
        [(PCS_ASSETS, "assets__purchase_date", "date")]),
    "a warranty ending before the purchase": (
        _change(PCS_ASSETS, '"2024-08-16"', '"2020-08-16"'),
        [(PCS_ASSETS, "assets__warranty_end", "before the purchase date")]),
    "a negative cost": (
        _change(PCS_ASSETS, "849", "-5"),
        [(PCS_ASSETS, "assets__purchase_cost", "greater than or equal to 0")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_asset_ledger(case, example, bad_input):
    bad_input(example, BAD[case])
