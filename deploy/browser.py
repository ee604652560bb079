"""Browser lockdown: Firefox ESR with enterprise policies rendered from the inventory.

Policy names and shapes: Mozilla's policy-templates documentation
(https://mozilla.github.io/policy-templates/). Debian 12's firefox-esr reads
``/etc/firefox/policies/policies.json`` (lab-notes.md: ``/etc/firefox-esr/`` is ignored, broken
JSON disables every policy, so the file is rendered with ``json.dumps``, never by hand).
"""

import json
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

from deploy.defaults import DEFAULTS
from deploy.packages import install

POLICIES_PATH = "/etc/firefox/policies/policies.json"


def render_policies(catalog_url: str, patron_home: str, allow: list[str],
                    block: list[str]) -> str:
    """The policies.json text for a public PC.

    Args:
        catalog_url: the branch catalog (``branch__catalog_url``): homepage and start page,
            locked.
        patron_home: the patron's home directory; downloads go to its ``Downloads/``, which the
            reset empties.
        allow: URL patterns always allowed (``WebsiteFilter.Exceptions``), may be empty.
        block: URL patterns blocked (``WebsiteFilter.Block``), may be empty.

    Returns:
        JSON text, keys sorted, newline-terminated: stable, so a re-converge changes nothing.
    """
    policies = {
        "Homepage": {"URL": catalog_url, "Locked": True, "StartPage": "homepage-locked"},
        "OverrideFirstRunPage": "",
        "OverridePostUpdatePage": "",
        "DontCheckDefaultBrowser": True,
        "SanitizeOnShutdown": {
            "Cache": True, "Cookies": True, "Downloads": True, "FormData": True,
            "History": True, "Sessions": True, "SiteSettings": True, "OfflineApps": True,
            "Locked": True,
        },
        "PasswordManagerEnabled": False,
        "OfferToSaveLogins": False,
        "DisableFormHistory": True,
        # DNS over HTTPS would bypass the library's filtering DNS (CIPA).
        "DNSOverHTTPS": {"Enabled": False, "Locked": True},
        "ExtensionSettings": {"*": {"installation_mode": "blocked"}},
        "BlockAboutConfig": True,
        "BlockAboutProfiles": True,
        "DisableDeveloperTools": True,
        "DisableFirefoxAccounts": True,
        "DisableTelemetry": True,
        "DisableFirefoxStudies": True,
        "DisablePocket": True,
        "DownloadDirectory": f"{patron_home}/Downloads",
        "PromptForDownloadLocation": False,
    }
    if allow or block:
        policies["WebsiteFilter"] = {"Block": list(block), "Exceptions": list(allow)}
    return json.dumps({"policies": policies}, indent=2, sort_keys=True) + "\n"


@deploy("Browser lockdown", data_defaults=DEFAULTS)
def browser_lockdown():
    """Install Firefox ESR and its policies (root-owned, world-readable, never user-writable)."""
    data = host.data
    install("Firefox ESR", ["firefox-esr"])
    files.directory(name="Firefox policies directory", path="/etc/firefox/policies",
                    user="root", group="root", mode="755")
    files.put(
        name="Firefox policies.json",
        src=StringIO(render_policies(
            data.branch__catalog_url, f"/home/{data.public_pc__patron_user}",
            data.public_pc__browser_allow_urls, data.public_pc__browser_block_urls,
        )),
        dest=POLICIES_PATH, user="root", group="root", mode="644",
    )
