"""Wireless, one declaration: the networks, the access points' radios, and what each host gets.

A site declares its wireless networks once (``inventories/<site>/group_vars/all/wireless.yml``)::

    wireless__country_code: US           # ISO 3166-1 alpha-2: the regulatory domain of the APs
    wireless__networks:
      - name: public                     # short id: file and interface names (a-z, 0-9, <= 7)
        ssid: Main Library Public        # 1-32 bytes of UTF-8
        security: wpa2-psk               # open, wpa2-psk, wpa3-sae, wpa2-/wpa3-enterprise
        vlan: 20                         # 802.1Q id, 1-4094, tagged on the AP's uplink
        isolation: true                  # clients cannot reach each other (hostapd ap_isolate)
        bands: [2.4GHz, 5GHz]
        hidden: false
        follows_hours: true              # off after closing, on at opening (libraryops.hours)
        clients: []                      # inventory groups whose hosts get a client profile
      - name: staff
        security: wpa2-enterprise        # 802.1X: RADIUS servers, the CA that signed their
        radius_servers: [{address: 192.0.2.10}]   # certificate, and the name it must carry
        ca_cert: |
          -----BEGIN CERTIFICATE-----
          ...
        domain_suffix_match: radius.example.org
        client_identity: svc-wifi        # optional: a machine identity stored in the profile
        ...

and its secrets in a vault-encrypted file (``group_vars/all/wireless_vault.yml``)::

    wireless__secrets:
      public: {passphrase: ...}          # WPA2-PSK / WPA3-SAE: 8-63 printable ASCII
      staff: {radius_secret: ..., client_password: ...}

Access points add their radios (``group_vars/wireless_aps/wireless_ap.yml`` or host_vars)::

    wireless_ap__radios:
      - {interface: wlan0, band: 2.4GHz, channel: 6}
      - {interface: wlan1, band: 5GHz, channel: 36}

The pydantic models here are what ``make validate`` checks (:mod:`libraryops.validation.wireless`);
:func:`ap_plan` and :func:`client_profiles` turn the same declaration into the plain data the
roles ``wireless_ap`` and ``wifi_client`` render (through ``plugins/filter/wireless.py``). Neither
ever sees a secret: the templates read ``wireless__secrets`` themselves, in tasks with
``no_log: true``.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from libraryops import regdb
from libraryops.certificates import ca_certificates
from libraryops.problem import fail

SECURITY = ("open", "wpa2-psk", "wpa3-sae", "wpa2-enterprise", "wpa3-enterprise")
#: Security modes with a shared passphrase (``wireless__secrets.<name>.passphrase``).
PERSONAL = ("wpa2-psk", "wpa3-sae")
#: Security modes with 802.1X against RADIUS.
ENTERPRISE = ("wpa2-enterprise", "wpa3-enterprise")
BANDS = ("2.4GHz", "5GHz")
#: Channels of each band (20 MHz channel numbers) that the role can run: the country's
#: regulatory domain narrows them further on the AP itself (wireless-regdb). 2.4GHz channel 14
#: (2484 MHz) is left out: Japan only and DSSS only (IEEE 802.11-2020, clause 15/16 and
#: Annex E), while the role runs 2.4GHz radios as hw_mode=g (OFDM), which no country allows there.
CHANNELS: dict[str, tuple[int, ...]] = {
    "2.4GHz": tuple(range(1, 14)),
    "5GHz": (*range(36, 65, 4), *range(100, 145, 4), *range(149, 178, 4)),
}
#: hostapd's ``hw_mode`` per band.
HW_MODE = {"2.4GHz": "g", "5GHz": "a"}
#: Keys that hold secrets: never in wireless__networks, never in plain text outside a vault.
SECRET_KEYS = frozenset({"passphrase", "psk", "password", "secret", "radius_secret",
                         "client_password", "wpa_passphrase", "sae_password", "shared_secret"})
#: The variable that holds the wireless secrets (in a vault-encrypted file).
SECRETS_VAR = "wireless__secrets"
#: Where the client profiles live (NetworkManager's keyfile plugin; 0600 root or NM skips them).
NM_CONNECTIONS = "/etc/NetworkManager/system-connections"
#: Profile and CA file names of this project (the stale-file sweep touches nothing else).
NM_PREFIX = "libraryops-"
CA_DIR = "/etc/libraryops/wifi"
#: Every hostapd file of the access point role.
HOSTAPD_DIR = "/etc/hostapd/libraryops"
#: systemd-networkd's directory, and the files of one VLAN there: template -> file name.
NETWORKD_DIR = "/etc/systemd/network"
NETWORKD_FILES = {
    "vlan.netdev": "60-libraryops-vlan{vlan}.netdev",
    "vlan.network": "60-libraryops-vlan{vlan}.network",
    "bridge.netdev": "60-libraryops-br-vlan{vlan}.netdev",
    "bridge.network": "60-libraryops-br-vlan{vlan}.network",
}
#: UUID namespace of the client profiles: a profile's UUID depends only on the network's name.
_PROFILE_NAMESPACE = uuid.UUID("6c1b0f5e-3f0a-4b7e-9d51-7c2f3c0a1b00")
_NAME = re.compile(r"[a-z][a-z0-9]{0,6}")
_IFNAME = re.compile(r"[a-z][a-z0-9]{0,6}")
_UPLINK = re.compile(r"[a-zA-Z][a-zA-Z0-9_]{0,9}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](-?[a-z0-9])*\.)+[a-z][a-z0-9-]*[a-z0-9]")
_DATA = Path(__file__).parent / "data" / "iso3166-1-alpha2.txt"



@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes (shipped list, ``libraryops/data/iso3166-1-alpha2.txt``)."""
    lines = _DATA.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.split("\t", 1)[0] for ln in lines if ln and not ln.startswith("#"))


# ---------------------------------------------------------------------------------------------
# Value checks (messages never repeat the value: it may be a secret)


def _country_text(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``NO`` (Norway) as false: say so instead of "not a string"."""
    if isinstance(value, bool):
        raise fail("country", "unquoted: YAML reads NO, YES, ON or OFF as true/false",
                    allowed='a quoted ISO 3166-1 alpha-2 code, e.g. "NO"')
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise fail("country", "not two upper-case letters",
                    allowed="an ISO 3166-1 alpha-2 code such as US, CA, GB, DE")
    if value not in country_codes():
        raise fail("country", "not an ISO 3166-1 alpha-2 country code",
                    allowed="an assigned ISO 3166-1 alpha-2 code such as US, CA, GB, DE")
    return value


def _ssid(value: str) -> str:
    size = len(value.encode("utf-8"))
    if not 1 <= size <= 32:
        raise fail("ssid", f"{'empty' if not size else f'{size} bytes long'}",
                    allowed="1-32 bytes of UTF-8 (not characters: é is 2 bytes)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise fail("ssid", "contains a control character",
                    allowed="1-32 bytes of UTF-8 without control characters")
    return value


def check_passphrase(value: str) -> str:
    """A WPA2-PSK / WPA3-SAE passphrase: 8-63 printable ASCII characters (IEEE 802.11i)."""
    if not 8 <= len(value) <= 63 or not all(32 <= ord(c) <= 126 for c in value):
        raise fail("passphrase", "not 8-63 printable ASCII characters",
                    allowed="8-63 printable ASCII characters (space to ~)")
    return value


def _radius_secret(value: str) -> str:
    if not 8 <= len(value) <= 128 or not all(32 <= ord(c) <= 126 for c in value):
        raise fail("radius_secret", "not 8-128 printable ASCII characters",
                    allowed="8-128 printable ASCII characters, as agreed with the RADIUS server")
    return value


def _client_password(value: str) -> str:
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise fail("client_password", "empty or contains a control character",
                    allowed="non-empty text without control characters")
    return value


def _ip_address(value: str, info: ValidationInfo) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise fail("address", "not an IP address",
                    allowed="an IP address (hostapd's auth_server_addr takes no host names)"
                    ) from None
    bridge = (info.context or {}).get("lab__bridge_address")
    if bridge and address not in ipaddress.ip_interface(str(bridge)).network:
        network = ipaddress.ip_interface(str(bridge)).network
        raise fail("lab_outside", "in the lab, not on the bridge",
                    allowed=f"an address in {network}")
    return value


def _ca_cert(value: str) -> str:
    from cryptography import x509

    try:
        certificates = ca_certificates(value)
    except ValueError:
        raise fail("ca_cert", "not a PEM certificate",
                    allowed="the PEM text (-----BEGIN CERTIFICATE-----) of the CA that signed "
                            "the RADIUS servers' certificate") from None
    for certificate in certificates:
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            continue
        if not constraints.value.ca:
            raise fail("ca_cert", "a certificate that is not a CA (basicConstraints CA:FALSE)",
                        allowed="the CA certificate, not the RADIUS server's own")
    return value


def _domain(value: str) -> str:
    if not _DOMAIN.fullmatch(value):
        raise fail("domain", "not a lower-case DNS name",
                    allowed="the DNS name (or a parent domain) in the RADIUS server's "
                            "certificate, e.g. radius.example.org")
    return value


def _unique(values: list) -> list:
    twice = sorted({str(v) for v in values if values.count(v) > 1})
    if twice:
        raise fail("unique", f"lists {', '.join(twice)} more than once", allowed="each once")
    return values


def _drop_secret_keys(value: Any) -> Any:
    """A network entry without its secret keys: those are reported by the secrets check
    (:mod:`libraryops.validation.wireless`), once, without their values."""
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if str(k) not in SECRET_KEYS}
    return value


Ssid = Annotated[str, Field(strict=True), AfterValidator(_ssid)]
Passphrase = Annotated[str, Field(strict=True), AfterValidator(check_passphrase)]


# ---------------------------------------------------------------------------------------------
# Models


class RadiusServer(BaseModel):
    """One RADIUS server of an Enterprise network (hostapd's ``auth_server_*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Annotated[str, Field(strict=True), AfterValidator(_ip_address)] = Field(
        description="an IP address (hostapd takes no host names)")
    auth_port: int = Field(1812, strict=True, ge=1, le=65535, description="a UDP port")
    acct_port: int | None = Field(None, strict=True, ge=1, le=65535,
                                  description="a UDP port for accounting, or none")


def _enterprise_only(value: Any, info: ValidationInfo, what: str, why: str = "") -> Any:
    security = info.data.get("security")
    if security in ENTERPRISE and not value:
        raise fail("enterprise", f"missing: an Enterprise network needs it{why}", allowed=what)
    if security is not None and security not in ENTERPRISE and value:
        raise fail("enterprise", "only for Enterprise networks",
                    allowed="nothing here unless security is " + " or ".join(ENTERPRISE))
    return value


class Network(BaseModel):
    """One entry of ``wireless__networks``. Secrets are not here: ``wireless__secrets``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(strict=True, pattern=_NAME.pattern)] = Field(
        description="a short id: a lower-case letter, then up to 6 letters or digits")
    ssid: Ssid = Field(description="1-32 bytes of UTF-8")
    security: Literal["open", "wpa2-psk", "wpa3-sae", "wpa2-enterprise", "wpa3-enterprise"] = \
        Field(description=", ".join(SECURITY))
    vlan: int = Field(strict=True, ge=1, le=4094, description="an 802.1Q VLAN id, 1-4094")
    isolation: bool = Field(strict=True, description="true or false (client isolation)")
    bands: Annotated[list[Literal["2.4GHz", "5GHz"]], AfterValidator(_unique)] = Field(
        min_length=1, description="a list of 2.4GHz and/or 5GHz")
    hidden: bool = Field(False, strict=True, description="true or false")
    follows_hours: bool = Field(False, strict=True, description="true or false")
    radius_servers: list[RadiusServer] = Field(
        [], validate_default=True,
        description="a list of {address, auth_port, acct_port} (Enterprise only)")
    radius_das: bool = Field(False, strict=True, description="true or false (Enterprise only)")
    ca_cert: str | None = Field(None, validate_default=True, description=(
        "the PEM text of the CA that signed the RADIUS servers' certificate (Enterprise only)"))
    domain_suffix_match: str | None = Field(None, validate_default=True, description=(
        "the DNS name in the RADIUS servers' certificate (Enterprise only)"))
    eap: Literal["peap", "ttls"] = Field("peap", description="peap or ttls")
    phase2_auth: Literal["mschapv2"] = Field("mschapv2", description="mschapv2")
    client_identity: Annotated[str, Field(strict=True, min_length=1)] | None = Field(
        None, description="the 802.1X identity stored in client profiles (Enterprise only)")
    clients: Annotated[list[Annotated[str, Field(strict=True, min_length=1)]],
                       AfterValidator(_unique)] = Field(
        [], description="inventory groups whose hosts get a client profile")

    @field_validator("radius_servers")
    @classmethod
    def _servers(cls, value: list[RadiusServer], info: ValidationInfo) -> list[RadiusServer]:
        return _enterprise_only(value, info, "at least one RADIUS server")

    @field_validator("ca_cert")
    @classmethod
    def _ca(cls, value: str | None, info: ValidationInfo) -> str | None:
        _enterprise_only(value, info, "the PEM text of the CA that signed the RADIUS servers' "
                                      "certificate", ": without it clients trust any server")
        return _ca_cert(value) if value else value

    @field_validator("domain_suffix_match")
    @classmethod
    def _suffix(cls, value: str | None, info: ValidationInfo) -> str | None:
        _enterprise_only(value, info, "the DNS name in the RADIUS servers' certificate")
        return _domain(value) if value else value

    @field_validator("radius_das", "client_identity")
    @classmethod
    def _enterprise_extras(cls, value: Any, info: ValidationInfo) -> Any:
        security = info.data.get("security")
        if value and security is not None and security not in ENTERPRISE:
            raise fail("enterprise", "only for Enterprise networks",
                        allowed="nothing here unless security is " + " or ".join(ENTERPRISE))
        return value

    @property
    def enterprise(self) -> bool:
        """802.1X against RADIUS."""
        return self.security in ENTERPRISE


NetworkEntry = Annotated[Network, BeforeValidator(_drop_secret_keys)]


class NetworkSecrets(BaseModel):
    """One entry of ``wireless__secrets`` (a vault file), keyed by the network's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passphrase: Passphrase | None = Field(
        None, description="8-63 printable ASCII characters (WPA2-PSK, WPA3-SAE)")
    radius_secret: Annotated[str, Field(strict=True), AfterValidator(_radius_secret)] | None = \
        Field(None, description="the RADIUS shared secret, 8-128 printable ASCII (Enterprise)")
    client_password: Annotated[str, Field(strict=True),
                               AfterValidator(_client_password)] | None = Field(
        None, description="the password of the network's client_identity (Enterprise)")


class WirelessModel(BaseModel):
    """The site's wireless declaration as one host sees it."""

    wireless__country_code: Annotated[str, Field(strict=True), BeforeValidator(_country_text),
                                      AfterValidator(_country)] = Field(
        description="an ISO 3166-1 alpha-2 code such as US")
    wireless__networks: list[NetworkEntry] = Field(
        min_length=1, description="a list of networks {name, ssid, security, vlan, isolation, "
                                  "bands, hidden, follows_hours, ...}")
    wireless__secrets: dict[str, NetworkSecrets] = Field(
        {}, description="network name -> {passphrase, radius_secret, client_password}, "
                        "in a vault-encrypted file")


class Radio(BaseModel):
    """One radio of an access point (one hostapd instance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interface: Annotated[str, Field(strict=True, pattern=_IFNAME.pattern)] = Field(
        description="the radio's interface name (e.g. wlan0): a letter, up to 7 letters/digits")
    band: Literal["2.4GHz", "5GHz"] = Field(description="2.4GHz or 5GHz")
    channel: int = Field(strict=True, description="a channel of the radio's band")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: int, info: ValidationInfo) -> int:
        band = info.data.get("band")
        if band == "2.4GHz" and value == 14:
            raise fail("channel", "channel 14 is Japan-only and 802.11b-only; these radios run "
                                   "802.11g/n", allowed=channel_text(band))
        if band in CHANNELS and value not in CHANNELS[band]:
            raise fail("channel", f"not a {band} channel", allowed=channel_text(band))
        country = (info.context or {}).get("wireless__country_code")
        if band in CHANNELS and isinstance(country, str) and country in country_codes():
            _legal_in(country, band, value)
        return value


class AccessPointModel(BaseModel):
    """An access point's own settings (role wireless_ap)."""

    wireless_ap__radios: Annotated[list[Radio], Field(min_length=1)] = Field(
        description="a list of {interface, band, channel}, at least one")
    wireless_ap__uplink_interface: Annotated[str, Field(
        strict=True, pattern=_UPLINK.pattern)] | None = Field(
        None, description="the wired interface carrying the VLANs, at most 10 characters")
    wireless_ap__service_enabled: bool | None = Field(None, strict=True,
                                                      description="true or false")

    @field_validator("wireless_ap__radios")
    @classmethod
    def _one_per_interface(cls, value: list[Radio]) -> list[Radio]:
        _unique([radio.interface for radio in value])
        return value


def _legal_in(country: str, band: str, channel: int) -> None:
    """Refuse a 20 MHz ``channel`` an access point may not start in ``country`` according to
    Debian's wireless-regdb (:mod:`libraryops.regdb`): hostapd would refuse to start the radio.
    A country the database does not list falls back to its world domain ``00``, as the kernel
    does."""
    try:
        database = regdb.load()
    except regdb.RegdbError as exc:
        raise fail("regdb", f"cannot check the channel: {exc}") from None
    rules = database.get(country, database.get("00", ()))
    if not regdb.ap_may_use(rules, band, channel):
        usable = [c for c in CHANNELS[band] if regdb.ap_may_use(rules, band, c)]
        raise fail("channel", f"not allowed for an access point in {country} by the regulatory "
                              "database (wireless-regdb): hostapd would not start this radio",
                   allowed=f"{band} channels {', '.join(map(str, usable)) or 'none'}")


def channel_text(band: str) -> str:
    """The channels of a band, for people: ``1-13`` or ``36-64, 100-144, 149-177 in steps of 4``."""
    if band == "2.4GHz":
        return "2.4GHz channels 1-13 (1, 6 or 11 do not overlap)"
    return "5GHz channels 36-64, 100-144 and 149-177 in steps of 4"


# ---------------------------------------------------------------------------------------------
# What hosts get (plain data; no secrets)


def networks(declared: Iterable[Mapping[str, Any]]) -> list[Network]:
    """Validate ``wireless__networks`` (``make validate`` has reported any problem already)."""
    return [Network.model_validate(_drop_secret_keys(entry)) for entry in declared]


def ssid_hex(ssid: str) -> str:
    """The SSID as hostapd's ``ssid2=`` hex form (any byte is safe there)."""
    return ssid.encode("utf-8").hex()


def profile_uuid(name: str) -> str:
    """The client profile's UUID: the same for a network's name on every host and run."""
    return str(uuid.uuid5(_PROFILE_NAMESPACE, name))


def _key_mgmt(network: Network) -> dict[str, str]:
    """hostapd's and NetworkManager's key management and PMF for a security mode."""
    return {
        "open": {"hostapd": "", "nm": "", "ieee80211w": "0", "pmf": ""},
        "wpa2-psk": {"hostapd": "WPA-PSK", "nm": "wpa-psk", "ieee80211w": "1", "pmf": "2"},
        "wpa3-sae": {"hostapd": "SAE", "nm": "sae", "ieee80211w": "2", "pmf": "3"},
        "wpa2-enterprise": {"hostapd": "WPA-EAP", "nm": "wpa-eap", "ieee80211w": "1",
                            "pmf": "2"},
        "wpa3-enterprise": {"hostapd": "WPA-EAP-SHA256", "nm": "wpa-eap", "ieee80211w": "2",
                            "pmf": "3"},
    }[network.security]


def _network_data(network: Network) -> dict[str, Any]:
    data = network.model_dump(mode="json")
    data["ssid_hex"] = ssid_hex(network.ssid)
    data["ascii_ssid"] = network.ssid.isascii()
    data["enterprise"] = network.enterprise
    data["personal"] = network.security in PERSONAL
    data["key_mgmt"] = _key_mgmt(network)
    return data


def vlan_bridge(vlan: int) -> str:
    """The AP's bridge of a VLAN (one per VLAN: networks sharing a VLAN share it)."""
    return f"br-vlan{vlan}"


def ap_plan(declared: Iterable[Mapping[str, Any]], radios: Iterable[Mapping[str, Any]],
            uplink: str, nas_host: str, own_ip: str | None = None) -> dict[str, Any]:
    """What one access point renders: hostapd configurations, VLAN bridges, schedule, firewall.

    Args:
        declared: ``wireless__networks``.
        radios: ``wireless_ap__radios``.
        uplink: ``wireless_ap__uplink_interface`` (its ``<uplink>.<vlan>`` interfaces are the
            VLANs).
        nas_host: the AP's name (each BSS's RADIUS NAS-Identifier is ``<nas_host>-<bss>``).
        own_ip: the AP's address as RADIUS sees it (NAS-IP-Address), or None.

    Returns:
        ``{"radios": [{interface, band, channel, hw_mode, config, bss: [...]}],
        "vlans": [{vlan, interface, bridge, isolation, networks}], "network_files":
        [{template, vlan, dest}] (:data:`NETWORKD_FILES` per VLAN), "scheduled": {network:
        [bss ifname, ...]}, "firewall_rules": {...}, "bridges": {bridge: [isolated ifname, ...]}}``
        (every VLAN bridge; its isolated BSS interfaces, empty when the VLAN is not isolated).
        A radio's BSSes: networks on its band, always-on ones first; the first is the radio's
        own interface, the others ``<radio>-<network>``. Radios with no network are left out.
    """
    nets = networks(declared)
    plan_radios, scheduled, isolated = [], {}, {}
    for radio in (Radio.model_validate(dict(r)) for r in radios):
        on_band = sorted((n for n in nets if radio.band in n.bands),
                         key=lambda n: n.follows_hours)
        bss = []
        for index, network in enumerate(on_band):
            ifname = radio.interface if index == 0 else f"{radio.interface}-{network.name}"
            entry = _network_data(network) | {
                "ifname": ifname, "primary": index == 0, "bridge": vlan_bridge(network.vlan),
                "nas_identifier": f"{nas_host}-{ifname}",
            }
            bss.append(entry)
            if network.follows_hours:
                scheduled.setdefault(network.name, []).append(ifname)
            if network.isolation:
                isolated.setdefault(vlan_bridge(network.vlan), []).append(ifname)
        if bss:
            plan_radios.append({
                "interface": radio.interface, "band": radio.band, "channel": radio.channel,
                "hw_mode": HW_MODE[radio.band], "config": f"{HOSTAPD_DIR}/{radio.interface}.conf",
                "bss": bss, "primary_follows_hours": bss[0]["follows_hours"],
            })
    served = {b["name"] for r in plan_radios for b in r["bss"]}
    vlans = {}
    for network in nets:
        if network.name in served:
            vlan = vlans.setdefault(network.vlan, {
                "vlan": network.vlan, "interface": f"{uplink}.{network.vlan}",
                "bridge": vlan_bridge(network.vlan), "isolation": network.isolation,
                "networks": []})
            vlan["networks"].append(network.name)
    firewall = {}
    for network in nets:
        if network.name in served and network.radius_das and network.radius_servers:
            server = network.radius_servers[0].address
            rule = firewall.setdefault("3799/udp", {
                "sources": [], "comment": "RADIUS dynamic authorization (role wireless_ap)"})
            prefix = 128 if ":" in server else 32
            if f"{server}/{prefix}" not in rule["sources"]:
                rule["sources"].append(f"{server}/{prefix}")
    vlan_list = [vlans[k] for k in sorted(vlans)]
    network_files = [
        {"template": template, "vlan": vlan,
         "dest": f"{NETWORKD_DIR}/{name.format(vlan=vlan['vlan'])}"}
        for vlan in vlan_list for template, name in NETWORKD_FILES.items()]
    return {"radios": plan_radios, "vlans": vlan_list, "network_files": network_files,
            "scheduled": scheduled, "firewall_rules": firewall,
            "bridges": {v["bridge"]: isolated.get(v["bridge"], []) for v in vlan_list},
            "own_ip": own_ip if own_ip and _is_ip(own_ip) else None}


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def nm_ssid(ssid: str) -> str:
    """The SSID as a NetworkManager keyfile byte list (``77;97;105;110;``): any byte is safe."""
    return "".join(f"{byte};" for byte in ssid.encode("utf-8"))


def nm_string(value: str) -> str:
    """A keyfile (GKeyFile) string value: backslash, spaces and control escapes."""
    escaped = value.replace("\\", "\\\\")
    for char, escape in ((" ", "\\s"), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        escaped = escaped.replace(char, escape)
    return escaped


def client_profiles(declared: Iterable[Mapping[str, Any]],
                    groups: Iterable[str]) -> list[dict[str, Any]]:
    """The NetworkManager profiles one host gets: networks whose ``clients`` name one of its
    ``groups``. Each: the network's data plus ``id`` (the SSID), ``uuid``, ``file`` (the
    keyfile), ``ca_file`` (Enterprise) and ``ssid_bytes`` (keyfile form)."""
    member_of = set(groups)
    profiles = []
    for network in networks(declared):
        if not member_of.intersection(network.clients):
            continue
        data = _network_data(network) | {
            "uuid": profile_uuid(network.name),
            "file": f"{NM_CONNECTIONS}/{NM_PREFIX}{network.name}.nmconnection",
            "ssid_bytes": nm_ssid(network.ssid),
            "id_escaped": nm_string(network.ssid),
            "ca_file": f"{CA_DIR}/{network.name}-ca.pem" if network.enterprise else None,
        }
        profiles.append(data)
    return profiles
