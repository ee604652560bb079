"""Where the lab's package cache fetches from: the Debian mirror this machine's apt uses.

The lab's hosts and its image builds ask the cache on the bridge for ``/debian/...`` and
``/debian-security/...``; the cache forwards each to the mirror the machine's own apt sources
name (a town's local mirror or proxy as much as deb.debian.org). apt itself reads the sources
-- deb822 ``/etc/apt/sources.list.d/*.sources`` and one-line ``sources.list`` alike -- and
reports them with ``apt-get indextargets --no-release-info`` (apt-get(8)); nothing here parses
apt's files.

Which entry is which archive: the one whose suite is the machine's own release codename
(``VERSION_CODENAME`` of os-release(5)) or its ``-updates`` is the main archive, the one whose
suite is ``<codename>-security`` the security archive. The same mirror serves every release
(the lab builds Debian 12 and 13 images from it).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from libraryops.lab.system import LabError, run

#: The archive names the lab's hosts use on the cache (URL paths), in this order.
ARCHIVES = ("debian", "debian-security")
OS_RELEASE = Path("/etc/os-release")
#: ``apt-get indextargets`` output format: one "<repository URI> <suite>" line per index.
_FORMAT = "$(REPO_URI) $(RELEASE)"


@dataclass(frozen=True)
class Upstream:
    """One mirror archive the cache fronts.

    Attributes:
        url: its base URL without a trailing slash, e.g. ``http://deb.debian.org/debian``.
    """

    url: str

    @property
    def scheme(self) -> str:
        """``http`` or ``https``."""
        return urlsplit(self.url).scheme

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port`` (what goes into the Host header)."""
        return urlsplit(self.url).netloc

    @property
    def path(self) -> str:
        """The archive's path on the mirror, e.g. ``/debian`` ("" for the root)."""
        return urlsplit(self.url).path.rstrip("/")

    @property
    def is_address(self) -> bool:
        """Whether the host is an IP address (no nameserver needed to reach it)."""
        host = urlsplit(self.url).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


def codename(os_release: str) -> str:
    """``VERSION_CODENAME`` from os-release text ("" when absent)."""
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "VERSION_CODENAME":
            return value.strip().strip("\"'")
    return ""


def pick_upstreams(indextargets: str, release: str) -> dict[str, Upstream]:
    """The main and security archives among apt's index targets.

    Args:
        indextargets: ``apt-get indextargets`` output in :data:`_FORMAT`.
        release: the machine's codename, e.g. ``bookworm``.

    Returns:
        {"debian": Upstream, "debian-security": Upstream}.

    Raises:
        LabError: an archive is missing or its URI is not http(s) (the message says which).
    """
    wanted = {"debian": (release, f"{release}-updates"),
              "debian-security": (f"{release}-security",)}
    found: dict[str, Upstream] = {}
    for line in indextargets.splitlines():
        fields = line.split()
        if len(fields) != 2:
            continue
        uri, suite = fields
        for archive, suites in wanted.items():
            if suite in suites and archive not in found:
                found[archive] = Upstream(uri.rstrip("/"))
    for archive in ARCHIVES:
        if archive not in found:
            suites = " or ".join(wanted[archive])
            raise LabError(
                f"apt sources: no entry for suite {suites}: the lab's package cache takes its "
                "mirror from them (add it to /etc/apt/sources.list.d/debian.sources)")
        if found[archive].scheme not in ("http", "https"):
            raise LabError(f"apt sources: {found[archive].url} ({archive}) is not an http(s) "
                           "mirror: the lab's package cache can only forward to one")
    return found


def lab_upstreams() -> dict[str, Upstream]:
    """The mirror archives this machine's apt uses (see the module doc).

    Raises:
        LabError: no os-release codename, apt-get missing, or an archive missing in the sources.
    """
    release = codename(OS_RELEASE.read_text() if OS_RELEASE.exists() else "")
    if not release:
        raise LabError(f"no VERSION_CODENAME in {OS_RELEASE}: the lab needs a Debian machine")
    listing = run(["apt-get", "indextargets", "--no-release-info", "--format", _FORMAT,
                   "Identifier: Packages"]).stdout
    return pick_upstreams(listing, release)
