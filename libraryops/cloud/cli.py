"""``azure/{plan,apply,drift}.py`` and ``python -m libraryops.cloud``: the Azure commands.

Usage::

    python -m libraryops.cloud {plan,apply,drift} [--site SITE] [--inventory DIR]
        [--auth env|cli|mi|default|lab] [--standin-dir DIR] [--report-dir DIR]

The spec ``inventories/<site>/azure.yml`` is validated before any request. ``--auth`` defaults
to ``$AZURE_AUTH``, else ``lab`` when the spec's endpoint is ``standin``, else ``cli``.
``ALLOW_DELETE=1`` in the environment allows deletes (apply) and shows them as ``delete``
(plan).

Exit status: plan 0 no changes / 2 changes; drift 0 in sync / 2 drift; apply 0 done;
1 for any error (invalid spec, auth refused, Azure error). ``plan`` also writes
``reports/<site>/azure-plan.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from azure.core.exceptions import AzureError

from libraryops import paths
from libraryops.cloud import engine, spec
from libraryops.cloud.clients import AUTH_MODES, AuthError, make_clients, resolve_endpoint


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m libraryops.cloud")
    parser.add_argument("command", choices=["plan", "apply", "drift"])
    parser.add_argument("--site", default="lab")
    parser.add_argument("--inventory", type=Path, help="site directory (default inventories/SITE)")
    parser.add_argument("--auth", choices=AUTH_MODES,
                        help="default: lab for the stand-in, else cli")
    parser.add_argument("--standin-dir", type=Path,
                        help="the ARM stand-in's state directory (endpoint: standin)")
    parser.add_argument("--report-dir", type=Path, help="default reports/SITE")
    return parser


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run one command (see the module docstring). Returns the exit status."""
    args = _parser().parse_args(argv)
    site_dir = args.inventory or paths.INVENTORIES / args.site
    site = site_dir.name
    allow_delete = os.environ.get("ALLOW_DELETE") == "1"
    try:
        paths.refuse_documentation_site(args.site, args.inventory)
        desired = spec.load(site_dir)
        endpoint = resolve_endpoint(desired.endpoint, args.standin_dir)
        auth = (args.auth or os.environ.get("AZURE_AUTH")
                or ("lab" if desired.endpoint == spec.STANDIN else "cli"))
        clients = make_clients(auth, desired.subscription_id, endpoint)
        print(f"Azure {args.command} — site {site}, subscription {desired.subscription_id}, "
              f"{endpoint.url} (--auth {auth})", file=out, flush=True)
        if args.command == "apply":
            done = engine.apply(clients, desired, site, allow_delete, out)
            print(f"Apply complete: {engine.summary_line(done, done=True)}.", file=out)
            return 0
        items = engine.plan(clients, desired, site, allow_delete)
        if args.command == "plan":  # resources libraryops did not create are drift's business
            items = [i for i in items if i.action != "unmanaged"]
    except spec.SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (paths.SiteError, AuthError, engine.ApplyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except AzureError as exc:
        print(f"error: Azure: {exc.message if hasattr(exc, 'message') else exc}", file=sys.stderr)
        return 1
    if args.command == "plan":
        engine.report(items, out)
        _write_json(args.report_dir or paths.REPORTS / site, site, desired, items)
        print(f"Plan: {engine.summary_line(items)}.", file=out)
        return 2 if any(i.action in engine.CHANGES for i in items) else 0
    drifted = [i for i in items if i.action != "no-change"]
    engine.report(drifted, out, words=engine.DRIFT_WORDS)
    print(f"Drift: {len(drifted)} difference(s) from {spec.display_name(site_dir)}.", file=out)
    return 2 if drifted else 0


def _write_json(report_dir: Path, site: str, desired: spec.AzureSpec,
                items: list[engine.Item]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    document = {"site": site, "subscription_id": desired.subscription_id,
                "summary": engine.summary(items), "items": [i.as_dict() for i in items]}
    (report_dir / "azure-plan.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
