"""The ledger and the replacement forecast: what the machines cannot say about themselves.

The ledger is inventory data, checked by ``make validate`` (:class:`AssetPolicyModel` on every
host, :class:`AssetLedgerModel` per host; group_vars give a whole model or purchase batch its
values, host_vars or hosts.yml one machine's):

- site policy (``group_vars/all/assets.yml``): ``assets__fiscal_year_start`` (``MM-DD``),
  ``assets__replacement_years`` and ``assets__prices`` per machine class, ``assets__currency``;
- per machine: ``assets__class`` (default from its group: :data:`CLASS_BY_GROUP`),
  ``assets__purchase_date``, ``assets__purchase_cost``, ``assets__funding``,
  ``assets__warranty_end``, ``assets__asset_tag``.

The rules (README "Capital planning"):

- a machine is due in the fiscal year that contains its purchase date plus its class's
  replacement years, or the end of its Debian release's LTS if that comes first (from Debian's
  ``distro-info-data``, :func:`debian_support`);
- its replacement cost is the class's price in ``assets__prices`` (what a new one costs, not
  what the old one did);
- a machine without a purchase date is "unknown age", never forecast;
- a fiscal year is named by the calendar year it ends in (FY2027 runs 2026-07-01..2027-06-30
  when it starts on 07-01; with 01-01 it is the calendar year);
- a machine due in a past fiscal year is overdue and counted in the current one.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libraryops import paths
from libraryops.inventory import SiteInventory, branch_of

#: Machine classes and the group a host's class defaults to (first group that matches).
CLASS_BY_GROUP = {"public_pcs": "public_pc", "staff_machines": "staff_machine",
                  "wireless_aps": "access_point"}
#: The class of a host in none of those groups.
DEFAULT_CLASS = "server"
CLASSES = (*CLASS_BY_GROUP.values(), DEFAULT_CLASS)
#: The branch of a register host the inventory no longer has.
NOT_IN_INVENTORY = "(not in the inventory)"
#: Fiscal years the forecast looks ahead, the current one included.
FORECAST_YEARS = 5


def _month_day(value: str) -> str:
    try:
        dt.date.fromisoformat(f"2000-{value}")  # a leap year: 02-29 exists
    except (TypeError, ValueError):
        raise ValueError("not a month and day") from None
    return value


class AssetPolicyModel(BaseModel):
    """The site's replacement policy (role-less: read by ``make assets``)."""

    model_config = ConfigDict(extra="ignore")

    assets__fiscal_year_start: str = Field("07-01", description=(
        'the first day of the library\'s fiscal year as "MM-DD" (e.g. "07-01")'))
    assets__replacement_years: dict[str, int] = Field(
        default_factory=lambda: {"public_pc": 5, "staff_machine": 5, "access_point": 7,
                                 "server": 6},
        description=f"years of service per machine class ({', '.join(CLASSES)}), 1-20")
    assets__prices: dict[str, float] = Field(default_factory=dict, description=(
        f"the price of a replacement per machine class ({', '.join(CLASSES)}), 0-1000000"))
    assets__currency: str = Field("USD", pattern=r"^[A-Z]{3}$",
                                  description="an ISO 4217 currency code such as USD or EUR")

    @field_validator("assets__fiscal_year_start")
    @classmethod
    def _start(cls, value: str) -> str:
        return _month_day(value)

    @field_validator("assets__replacement_years", "assets__prices")
    @classmethod
    def _classes(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(CLASSES))
        if unknown:
            raise ValueError(f"{unknown[0]} is not a machine class")
        return value

    @field_validator("assets__replacement_years")
    @classmethod
    def _years(cls, value: dict[str, int]) -> dict[str, int]:
        if any(not 1 <= years <= 20 for years in value.values()):
            raise ValueError("years of service out of range")
        return value

    @field_validator("assets__prices")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= price <= 1_000_000 for price in value.values()):
            raise ValueError("a price out of range")
        return value


class AssetLedgerModel(BaseModel):
    """One machine's ledger entry (all optional: a machine without a purchase date is listed
    as "unknown age")."""

    model_config = ConfigDict(extra="ignore")

    assets__class: str | None = Field(None, description=(
        f"one of {', '.join(CLASSES)} (default from the host's group)"))
    assets__purchase_date: dt.date | None = Field(None, description=(
        'the purchase date as "YYYY-MM-DD"'))
    assets__purchase_cost: float | None = Field(None, ge=0, le=1_000_000, description=(
        "what the machine cost, 0-1000000 in the site's currency"))
    assets__funding: str | None = Field(None, min_length=1, max_length=100, description=(
        "the funding source (a budget line or grant), 1-100 characters"))
    assets__warranty_end: dt.date | None = Field(None, description=(
        'the last day of the warranty as "YYYY-MM-DD", after the purchase date'))
    assets__asset_tag: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,40}$", description=(
        "the library's asset tag: 1-40 of A-Z a-z 0-9 . _ -"))

    @field_validator("assets__class")
    @classmethod
    def _class(cls, value: str | None) -> str | None:
        if value is not None and value not in CLASSES:
            raise ValueError("not a machine class")
        return value

    @field_validator("assets__warranty_end")
    @classmethod
    def _after_purchase(cls, value: dt.date | None, info) -> dt.date | None:
        bought = info.data.get("assets__purchase_date")
        if value and bought and value < bought:
            raise ValueError("before the purchase date")
        return value


def machine_class(site: SiteInventory, host: str) -> str:
    """The host's class: ``assets__class`` if set, else from its groups (:data:`CLASS_BY_GROUP`)."""
    declared = site.hosts.get(host, {}).get("assets__class")
    if declared:
        return str(declared)
    groups = site.groups_of(host)
    return next((c for g, c in CLASS_BY_GROUP.items() if g in groups), DEFAULT_CLASS)


def fiscal_year(day: dt.date, start: str) -> int:
    """The fiscal year containing ``day``, named by the calendar year it ends in (a year that
    starts on 01-01 is the calendar year)."""
    month, first = (int(part) for part in start.split("-"))
    if (month, first) == (1, 1):
        return day.year
    return day.year + 1 if (day.month, day.day) >= (month, first) else day.year


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def debian_support(version: str, table: Path = paths.DEBIAN_RELEASES) -> dict[str, dt.date | None]:
    """The ends of support of a Debian release from distro-info-data's ``debian.csv``.

    Returns:
        ``{"eol": end of regular security support, "eol_lts": end of LTS}``; a date is None
        when the table does not give it yet (or for a release it does not list).

    Raises:
        FileNotFoundError: distro-info-data is not installed (``apt-get install
            distro-info-data``).
    """
    with table.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("version") == version:
                return {key: dt.date.fromisoformat(row[col]) if row.get(col) else None
                        for key, col in (("eol", "eol"), ("eol_lts", "eol-lts"))}
    return {"eol": None, "eol_lts": None}


@dataclass
class Machine:
    """One machine of the forecast (a host of the inventory or of the register)."""

    host: str
    branch: str
    machine_class: str
    purchase_date: dt.date | None = None
    warranty_end: dt.date | None = None
    price: float | None = None
    due: dt.date | None = None
    due_year: int | None = None
    reason: str = ""
    os: str = ""
    os_eol: dt.date | None = None
    os_eol_lts: dt.date | None = None
    seen: dict[str, Any] | None = None
    ledger: dict[str, Any] = field(default_factory=dict)


def site_policy(site: SiteInventory) -> AssetPolicyModel:
    """The site's replacement policy (group_vars/all: every host sees the same one)."""
    return AssetPolicyModel.model_validate(next(iter(site.hosts.values()), {}))


def machines(site: SiteInventory, register: dict[str, dict[str, Any]], today: dt.date,
             table: Path = paths.DEBIAN_RELEASES) -> list[Machine]:
    """Every inventory host with its ledger, its register record and its due date; then the
    hosts of the register that the inventory no longer has (branch :data:`NOT_IN_INVENTORY`)."""
    policy = site_policy(site)
    found = []
    for host in sorted(site.hosts):
        ledger = AssetLedgerModel.model_validate(site.hosts[host])
        kind = machine_class(site, host)
        branch = branch_of(site.groups, host) or "(no branch)"
        machine = Machine(host, branch, kind, ledger.assets__purchase_date,
                          ledger.assets__warranty_end, policy.assets__prices.get(kind),
                          seen=register.get(host),
                          ledger=ledger.model_dump(exclude_none=True, mode="json"))
        if machine.seen and machine.seen.get("os", {}).get("id") == "debian":
            version = str(machine.seen["os"].get("version"))
            support = debian_support(version, table)
            machine.os = f"Debian {version}"
            machine.os_eol, machine.os_eol_lts = support["eol"], support["eol_lts"]
        if machine.purchase_date:
            years = policy.assets__replacement_years.get(kind, 5)
            machine.due = add_years(machine.purchase_date, years)
            machine.reason = f"{years} years of service"
            if machine.os_eol_lts and machine.os_eol_lts < machine.due:
                machine.due, machine.reason = machine.os_eol_lts, f"{machine.os} LTS ends"
            machine.due_year = fiscal_year(machine.due, policy.assets__fiscal_year_start)
        found.append(machine)
    for host in sorted(set(register) - set(site.hosts)):
        found.append(Machine(host, NOT_IN_INVENTORY, DEFAULT_CLASS, seen=register[host]))
    return found


@dataclass
class Forecast:
    """The replacement forecast.

    Attributes:
        years: the fiscal years forecast (the current one first).
        rows: ``(branch, class) -> {year: (count, cost)}``; cost None when the class has no
            price.
        overdue: machines due before the current fiscal year (counted in it).
        unknown_age: machines without a purchase date (never forecast).
        currency: the site's currency code.
    """

    years: list[int]
    rows: dict[tuple[str, str], dict[int, tuple[int, float | None]]]
    overdue: list[Machine]
    unknown_age: list[Machine]
    currency: str

    def totals(self) -> dict[int, float]:
        """Estimated cost per fiscal year (classes without a price count 0)."""
        return {year: sum((cells.get(year, (0, 0))[1] or 0) for cells in self.rows.values())
                for year in self.years}


def forecast(site: SiteInventory, found: list[Machine], today: dt.date) -> Forecast:
    """What is due in each of the next :data:`FORECAST_YEARS` fiscal years, per branch and
    class, with the estimated cost (see the module doc for the rules)."""
    policy = site_policy(site)
    current = fiscal_year(today, policy.assets__fiscal_year_start)
    years = list(range(current, current + FORECAST_YEARS))
    rows: dict[tuple[str, str], dict[int, tuple[int, float | None]]] = {}
    overdue, unknown = [], []
    for machine in found:
        if machine.host not in site.hosts:
            continue
        if machine.due_year is None:
            unknown.append(machine)
            continue
        year = max(machine.due_year, current)
        if machine.due_year < current:
            overdue.append(machine)
        if year not in years:
            continue
        cells = rows.setdefault((machine.branch, machine.machine_class), {})
        count, cost = cells.get(year, (0, 0.0))
        cells[year] = (count + 1, None if machine.price is None or cost is None
                       else cost + machine.price)
    return Forecast(years, dict(sorted(rows.items())), overdue, unknown,
                    policy.assets__currency)
