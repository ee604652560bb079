"""Firefox ESR enterprise policies for public PCs."""

import json
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files

#: The path Debian 12's firefox-esr reads (lab-notes: /etc/firefox-esr/ is ignored).
POLICIES_PATH = "/etc/firefox/policies/policies.json"


def render_policies(catalog_url: str) -> str:
    """The policies.json text for a branch: homepage and start page = the catalog, locked.

    Args:
        catalog_url: the branch's catalog (``branch__catalog_url``), an http(s) URL.

    Returns:
        JSON text, keys sorted, ending with a newline (stable, so re-runs change nothing).
        Policy names from Mozilla's policy-templates documentation ("Homepage").
    """
    policies = {
        "policies": {
            "Homepage": {"URL": catalog_url, "Locked": True, "StartPage": "homepage-locked"},
        }
    }
    return json.dumps(policies, indent=2, sort_keys=True) + "\n"


@deploy("Firefox policies")
def firefox_policies():
    """Install the branch's Firefox enterprise policies (root-owned, world-readable)."""
    files.directory(
        name="Firefox policies directory",
        path="/etc/firefox/policies",
        user="root",
        group="root",
        mode="755",
    )
    files.put(
        name="Firefox policies.json (homepage = branch catalog)",
        src=StringIO(render_policies(host.data.branch__catalog_url)),
        dest=POLICIES_PATH,
        user="root",
        group="root",
        mode="644",
    )
