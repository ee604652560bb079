"""``make assets``: merge what the hosts reported into the register, then write the capital
planning report.

Writes to ``reports/<site>/assets/``:

- ``assets.html``: one page, readable printed: the replacement forecast per branch and class for
  the next five fiscal years with the estimated cost and one chart of the cost per fiscal year
  (an SVG drawn by pygal, inside the page), overdue machines, machines of unknown age,
  warranties ending within 12 months, disks whose SMART self-assessment failed, each host's
  Debian release and its ends of support, hosts of the inventory never seen and hosts seen that
  the inventory does not have;
- ``forecast.csv``: the forecast table (branch, class, fiscal year, count, cost);
- ``snipeit.csv``: one row per machine with the column names of Snipe-IT's asset importer
  (https://snipe-it.readme.io/docs/importing-assets; header names are not case-sensitive there).

The rules are :mod:`libraryops.asset_plan`'s; the register is :mod:`libraryops.assets`'.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import io
import sys
from pathlib import Path

from libraryops import assets, clock
from libraryops.asset_plan import (
    NOT_IN_INVENTORY,
    Forecast,
    Machine,
    add_years,
    forecast,
    machines,
)
from libraryops.inventory import InventoryError, load_site
from libraryops.report import render_html, site_name
from libraryops.validation.base import display_path

#: Warranties ending within this many months are listed.
WARRANTY_MONTHS = 12
#: Snipe-IT's asset importer columns, in the order written.
SNIPEIT_COLUMNS = ("Asset Tag", "Name", "Serial", "Manufacturer", "Model Name", "Category",
                   "Status", "Location", "Purchase Date", "Purchase Cost", "Warranty Months",
                   "Notes")
_CATEGORIES = {"public_pc": "Public PC", "staff_machine": "Staff computer",
               "access_point": "Access point", "server": "Server"}


def _months(start: dt.date, end: dt.date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def chart_svg(plan: Forecast) -> bytes:
    """A bar chart of the estimated replacement cost per fiscal year, as SVG bytes (pygal: no
    scripts or external resources when rendered with ``disable_xml_declaration`` off and
    ``js`` empty)."""
    import pygal  # imported here: only the report draws

    totals = plan.totals()
    chart = pygal.Bar(title="Estimated replacement cost per fiscal year", show_legend=False,
                      y_title=plan.currency, width=700, height=300, js=[])
    chart.x_labels = [f"FY{year}" for year in totals]
    chart.add("cost", list(totals.values()))
    return chart.render()


def forecast_csv(plan: Forecast) -> str:
    """The forecast as CSV: branch, class, fiscal_year, due, estimated_cost (empty: no price)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["branch", "class", "fiscal_year", "due", "estimated_cost", "currency"])
    for (branch, kind), cells in plan.rows.items():
        for year in plan.years:
            count, cost = cells.get(year, (0, 0.0))
            writer.writerow([branch, kind, f"FY{year}", count,
                             "" if cost is None else f"{cost:.2f}", plan.currency])
    return out.getvalue()


def snipeit_csv(found: list[Machine]) -> str:
    """One row per inventory machine in Snipe-IT's importer columns (:data:`SNIPEIT_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SNIPEIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for machine in found:
        if machine.branch == NOT_IN_INVENTORY:
            continue
        seen, ledger = machine.seen or {}, machine.ledger
        bought = machine.purchase_date
        writer.writerow({
            "Asset Tag": ledger.get("assets__asset_tag", ""), "Name": machine.host,
            "Serial": _known(seen.get("serial")), "Manufacturer": _known(seen.get("vendor")),
            "Model Name": _known(seen.get("model")) or _CATEGORIES[machine.machine_class],
            "Category": _CATEGORIES[machine.machine_class], "Status": "Ready to Deploy",
            "Location": machine.branch, "Purchase Date": bought.isoformat() if bought else "",
            "Purchase Cost": ledger.get("assets__purchase_cost", ""),
            "Warranty Months": _months(bought, machine.warranty_end)
            if bought and machine.warranty_end else "",
            "Notes": f"funding: {ledger['assets__funding']}" if "assets__funding" in ledger
            else ""})
    return out.getvalue()


def _known(value) -> str:
    return "" if value in (None, assets.UNKNOWN) else str(value)


def page(site: str, name: str, plan: Forecast, found: list[Machine], today: dt.date) -> str:
    """The HTML report (see the module doc)."""
    in_inventory = [m for m in found if m.branch != NOT_IN_INVENTORY]
    horizon = add_years(today, 1)
    return render_html(
        "assets.html.j2", site=site, site_name=name, today=today.isoformat(), today_date=today,
        plan=plan,
        chart=base64.b64encode(chart_svg(plan)).decode(), totals=plan.totals(),
        warranties=[m for m in in_inventory if m.warranty_end and today <= m.warranty_end
                    <= horizon],
        smart=[(m, d) for m in in_inventory for d in (m.seen or {}).get("disks", [])
               if d.get("smart") == "FAILED"],
        releases=[m for m in in_inventory if m.seen],
        never_seen=[m for m in in_inventory if not m.seen],
        not_in_inventory=[m for m in found if m.branch == NOT_IN_INVENTORY],
        months=WARRANTY_MONTHS)


def write_reports(site_dir: Path, report_dir: Path, today: dt.date) -> list[Path]:
    """Load the site and its register, write the three files; returns their paths.

    Raises:
        InventoryError: the site cannot be read.
        ValueError: a register file is damaged (names it).
        FileNotFoundError: distro-info-data is missing on this machine.
    """
    inventory = load_site(site_dir)
    found = machines(inventory, assets.load_register(site_dir), today)
    plan = forecast(inventory, found, today)
    report_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"assets.html": page(site_dir.name, site_name(inventory, site_dir.name), plan,
                                   found, today),
               "forecast.csv": forecast_csv(plan), "snipeit.csv": snipeit_csv(found)}
    for name, text in outputs.items():
        (report_dir / name).write_text(text, encoding="utf-8")
    return [report_dir / name for name in outputs]


def main(argv: list[str] | None = None) -> int:
    """CLI: ``[--raw-dir D] --site-dir S --report-dir R``; 0, or 1 with one line naming what
    could not be read."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.asset_report")
    parser.add_argument("--site-dir", type=Path, required=True)
    parser.add_argument("--report-dir", type=Path, required=True)
    parser.add_argument("--raw-dir", type=Path,
                        help="merge the raw documents of playbooks/assets.yml first")
    args = parser.parse_args(argv)
    today = clock.now().date()
    try:
        if args.raw_dir:
            changed = assets.collect(args.site_dir, args.raw_dir, today)
            print(f"assets: register {display_path(args.site_dir / assets.REGISTER_DIR)}: "
                  f"{len(changed)} host file(s) updated")
        written = write_reports(args.site_dir, args.report_dir, today)
    except (InventoryError, ValueError) as exc:
        print(f"assets: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"assets: {exc.filename}: missing (allowed: Debian's distro-info-data installed: "
              "apt-get install distro-info-data)", file=sys.stderr)
        return 1
    print(f"assets: report {display_path(written[0])} (+ forecast.csv, snipeit.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
