"""The wireless checkers of ``make validate``: the declaration, the secrets, the access points.

Checkers over the models of :mod:`libraryops.wireless`:

- :func:`check_wireless`: ``wireless__country_code``, ``wireless__networks`` and
  ``wireless__secrets`` on every host that sees them (and on every access point, which needs
  them), then what one entry cannot say alone: two networks with one name or SSID, two networks
  on one VLAN with different isolation, a passphrase or RADIUS secret missing from (or left over
  in) the secrets, a client group that does not exist, a RADIUS CA certificate that is not
  valid today (an error) or expires within :data:`CA_WARN_DAYS` days (a warning);
- :func:`check_access_points`: the radios (a channel of the band) and the uplink of each host
  in ``wireless_aps``;

Every problem names the file and the key; no message ever contains a value (it may be a secret).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from libraryops import clock
from libraryops.certificates import ca_certificates
from libraryops.role_specs import role_default
from libraryops.validation.base import Problem, Site, display_path
from libraryops.validation.stored_secrets import STORE_IN_VAULT
from libraryops.wireless import (
    BANDS,
    ENTERPRISE,
    PERSONAL,
    SECRETS_VAR,
    AccessPointModel,
    WirelessModel,
)

WIRELESS_FILE = ("all", "wireless.yml")
VAULT_FILE = ("all", "wireless_vault.yml")
AP_FILE = ("wireless_aps", "wireless_ap.yml")
#: A RADIUS CA certificate ending within this many days is a warning (issue 17: every staff
#: device pins the CA, so the staff network stops the day it ends); the monitoring role's
#: RadiusCAExpiringSoon alerts as long before (its default is the one owner of the number).
CA_WARN_DAYS = role_default("monitoring", "monitoring__certificate_warn_days")


def _expected(site: Site, where: tuple[str, str]) -> Path:
    return site.files.path / "group_vars" / where[0] / where[1]


def _wireless_hosts(site: Site) -> list[str]:
    """Hosts that see a wireless declaration, and every access point (which needs one)."""
    aps = set(site.inventory.groups.get("wireless_aps", []))
    keys = ("wireless__networks", "wireless__country_code", SECRETS_VAR)
    return sorted(h for h, v in site.inventory.hosts.items()
                  if h in aps or any(k in v for k in keys))


def check_wireless(site: Site) -> Iterator[Problem]:
    """The wireless declaration on every host that sees it (:class:`WirelessModel`), then the
    checks across networks and secrets (see the module doc)."""
    expected = _expected(site, WIRELESS_FILE)
    hosts = _wireless_hosts(site)
    found = list(site.model_problems(WirelessModel, hosts, expected))
    groups = set(site.inventory.groups) | {"all"}
    for host in hosts:
        hostvars = site.inventory.hosts[host]
        try:
            model = WirelessModel.model_validate(hostvars, context=hostvars)
        except ValidationError:
            continue
        nets_file = display_path(site.source("wireless__networks", host) or expected)
        secrets_file = display_path(site.source(SECRETS_VAR, host)
                                    or _expected(site, VAULT_FILE))
        found += _across_networks(model, nets_file, groups)
        found += _ca_validity(model, nets_file, clock.now())
        found += _secrets_match(model, secrets_file)
    yield from dict.fromkeys(found)


def _across_networks(model: WirelessModel, file: str, groups: set[str]) -> list[Problem]:
    problems = []
    first_name: dict[str, int] = {}
    first_ssid: dict[str, int] = {}
    first_vlan: dict[int, int] = {}
    for index, net in enumerate(model.wireless__networks):
        key = f"wireless__networks[{index}]"
        if net.name in first_name:
            problems.append(Problem(file, f"{key}.name", f"the same name as "
                                    f"wireless__networks[{first_name[net.name]}]",
                                    "a name used once"))
        first_name.setdefault(net.name, index)
        if net.ssid in first_ssid:
            problems.append(Problem(file, f"{key}.ssid", f"the same SSID as "
                                    f"wireless__networks[{first_ssid[net.ssid]}]",
                                    "one network per SSID"))
        first_ssid.setdefault(net.ssid, index)
        other = first_vlan.setdefault(net.vlan, index)
        if model.wireless__networks[other].isolation != net.isolation:
            problems.append(Problem(
                file, f"{key}.isolation",
                f"VLAN {net.vlan} also carries wireless__networks[{other}] with different "
                "isolation: isolated clients would reach the others on the shared VLAN",
                "the same isolation for every network on one VLAN, or a VLAN of its own"))
        for number, group in enumerate(net.clients):
            if group not in groups:
                problems.append(Problem(file, f"{key}.clients[{number}]",
                                        "not a group of this inventory",
                                        ", ".join(sorted(groups))))
    return problems


def _ca_validity(model: WirelessModel, file: str, now: datetime) -> list[Problem]:
    """Each network's RADIUS CA certificates are valid at ``now`` (an aware datetime, UTC) and
    for :data:`CA_WARN_DAYS` days more (else a warning).

    Staff devices verify the RADIUS server's certificate chain against the pinned CA; outside the
    CA's notBefore/notAfter (RFC 5280 section 4.1.2.5) the chain does not verify and 802.1X logins
    fail. The dates are printed: a CA certificate is public.
    """
    problems = []
    renew = ("a CA certificate valid today and beyond the next "
             f"{CA_WARN_DAYS} days (renew it, and give the RADIUS server a certificate it signs)")
    for index, net in enumerate(model.wireless__networks):
        key = f"wireless__networks[{index}].ca_cert"
        for number, certificate in enumerate(ca_certificates(net.ca_cert) if net.ca_cert else []):
            which = f"certificate {number + 1} " if number else ""
            start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
            if now < start:
                problems.append(Problem(file, key, f"the CA {which}is not valid before "
                                        f"{start:%Y-%m-%d %H:%M} UTC: staff devices would refuse "
                                        "the RADIUS server until then", renew))
            elif now > end:
                problems.append(Problem(file, key, f"the CA {which}expired on "
                                        f"{end:%Y-%m-%d %H:%M} UTC: staff devices refuse the "
                                        "RADIUS server", renew))
            elif end - now < timedelta(days=CA_WARN_DAYS):
                problems.append(Problem(file, key, f"the CA {which}expires on "
                                        f"{end:%Y-%m-%d %H:%M} UTC, within {CA_WARN_DAYS} days: "
                                        "staff Wi-Fi logins stop then", renew, warning=True))
    return problems


def _secrets_match(model: WirelessModel, file: str) -> list[Problem]:
    """Each network has the secrets its security needs, and no others."""
    problems = []
    names = {net.name for net in model.wireless__networks}
    for net in model.wireless__networks:
        secrets = model.wireless__secrets.get(net.name)
        key = f"{SECRETS_VAR}.{net.name}"
        have = {k for k, v in (secrets.model_dump() if secrets else {}).items() if v is not None}
        needs = ({"passphrase"} if net.security in PERSONAL
                 else {"radius_secret"} if net.security in ENTERPRISE else set())
        for missing in sorted(needs - have):
            problems.append(Problem(file, f"{key}.{missing}",
                                    f"missing: a {net.security} network needs it",
                                    STORE_IN_VAULT))
        allowed_extra = {"client_password"} if net.security in ENTERPRISE else set()
        for extra in sorted(have - needs - allowed_extra):
            problems.append(Problem(file, f"{key}.{extra}",
                                    f"not used by this network (security {net.security})",
                                    ", ".join(sorted(needs)) or "no secrets for an open network"))
        if "client_password" in have and not net.client_identity:
            problems.append(Problem(file, f"{key}.client_password",
                                    "no client_identity in the network to use it with",
                                    "a client_identity in wireless__networks, or no password"))
    for name in sorted(set(model.wireless__secrets) - names):
        problems.append(Problem(file, f"{SECRETS_VAR}.{name}", "no network of that name",
                                ", ".join(sorted(names))))
    return problems


def check_access_points(site: Site) -> Iterator[Problem]:
    """Radios and uplink of every host in ``wireless_aps`` (:class:`AccessPointModel`), and,
    when the site has access points, every network on a band one of their radios has (the
    planner leaves a network without one out, silently)."""
    members = site.inventory.groups.get("wireless_aps", [])
    yield from site.model_problems(AccessPointModel, members, _expected(site, AP_FILE))
    radios = [radio for host in members
              for radio in site.inventory.hosts[host].get("wireless_ap__radios") or []]
    served = {radio.get("band") for radio in radios if isinstance(radio, dict)}
    if not members or not served:
        return
    host = members[0]
    networks = site.inventory.hosts[host].get("wireless__networks") or []
    file = site.source("wireless__networks", host) or _expected(site, WIRELESS_FILE)
    for index, network in enumerate(networks):
        bands = network.get("bands") if isinstance(network, dict) else None
        known = isinstance(bands, list) and bands and all(b in BANDS for b in bands)
        if known and not served.intersection(bands):
            yield Problem(display_path(file), f"wireless__networks[{index}].bands",
                          f"no access point has a radio on {', '.join(map(str, bands))}: "
                          f"{network.get('name', 'this network')} would be served nowhere",
                          f"a band some wireless_ap__radios has: {', '.join(sorted(served))}")
