"""Where things are: the repository, the sites, the lab state and the reports."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INVENTORIES = REPO / "inventories"
REPORTS = REPO / "reports"
#: Debian's release table from distro-info-data (columns documented in distro-info(1)):
#: release and end-of-support dates, read by `make assets`.
DEBIAN_RELEASES = Path("/usr/share/distro-info/debian.csv")

#: Sites that are documentation only: no target may contact their hosts or Azure.
DOCUMENTATION_SITES = frozenset({"example"})


class SiteError(ValueError):
    """A site name that does not exist or may not be contacted."""


def site_dir(site: str) -> Path:
    """Return ``inventories/<site>`` for a site name.

    Raises:
        SiteError: no such directory under ``inventories/``.
    """
    path = INVENTORIES / site
    if not site or "/" in site or not (path / "hosts.yml").is_file():
        known = ", ".join(sorted(
            p.name for p in INVENTORIES.iterdir() if (p / "hosts.yml").is_file()))
        where = f"{site}/hosts.yml" if "/" in site else f"inventories/{site}/hosts.yml"
        raise SiteError(f"SITE={site!r}: no {where} (allowed: a site name under inventories/: "
                        f"{known}, or a site directory holding hosts.yml)")
    return path


def refuse_documentation_site(site: str, inventory: Path | None = None) -> None:
    """Refuse a documentation-only site (``example``) for anything that contacts hosts or Azure.

    Args:
        site: the SITE name.
        inventory: an explicit site directory, if one was given instead of ``inventories/SITE``.

    Raises:
        SiteError: the site (by name or directory) is documentation only, or does not exist.
    """
    path = Path(inventory) if inventory else site_dir(site)
    if site in DOCUMENTATION_SITES or path.resolve().name in DOCUMENTATION_SITES:
        raise SiteError(
            f"SITE={site}: inventories/{path.name} is a worked example for documentation; "
            "no target contacts its hosts or Azure (use SITE=lab or your own site)"
        )


def vault_password_file(site: Path) -> Path | None:
    """The vault password file for a site directory.

    ``ANSIBLE_VAULT_PASSWORD_FILE`` wins (a real site keeps its password outside the clone);
    otherwise ``<site>/vault-password.txt`` if it exists (shipped only by the lab and example
    sites, with a documented test password). None when neither exists.
    """
    env = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if env:
        return Path(env)
    candidate = site / "vault-password.txt"
    return candidate if candidate.is_file() else None
