"""``make validate`` for the wireless declaration: each bad input is named by file and key, and
no message ever contains a secret.

Bad sites are copies of a shipped site with one edit (helpers from tests/unit/sites.py); secrets are
edited by decrypting the copy's vault file, changing it and encrypting it again with the site's
test password. Each case lists every problem line expected, in order.
"""

import pytest
import yaml
from sites import (
    EXAMPLE,
    VAULT,
    WIRELESS,
    assert_problems,
    edit,
    leaves,
    read_secrets,
    run,
    write,
)

from libraryops import certificates, firewall, wireless
from libraryops.inventory import load_site, vault_lib

AP = "group_vars/wireless_aps/wireless_ap.yml"
STAFF_ENTRY = "  - name: staff\n"


def edit_secrets(site, change):
    """Decrypt the vault file, let ``change`` edit ``wireless__secrets``, encrypt it again."""
    vault = vault_lib(site / "vault-password.txt")
    data = yaml.safe_load(vault.decrypt((site / VAULT).read_bytes()))
    change(data["wireless__secrets"])
    (site / VAULT).write_bytes(vault.encrypt(yaml.safe_dump(data).encode()))


def set_secret(network, key, value):
    return lambda site: edit_secrets(site, lambda s: s.setdefault(network, {}).update({key: value}))


def drop_secret(network, key):
    return lambda site: edit_secrets(site, lambda s: s[network].pop(key))


BAD = {
    "SSID empty": (
        lambda s: edit(s, WIRELESS, "ssid: Riverton Library Public", 'ssid: ""'),
        [(WIRELESS, "wireless__networks[0].ssid", "empty (allowed: 1-32 bytes of UTF-8")]),
    "SSID of 33 ASCII bytes": (
        lambda s: edit(s, WIRELESS, "ssid: Riverton Library Public", "ssid: " + "R" * 33),
        [(WIRELESS, "wireless__networks[0].ssid", "33 bytes long")]),
    "SSID of 17 characters but 34 UTF-8 bytes": (
        lambda s: edit(s, WIRELESS, "ssid: Riverton Library Public", "ssid: " + "é" * 17),
        [(WIRELESS, "wireless__networks[0].ssid", "34 bytes long (allowed: 1-32 bytes of UTF-8 "
                                                  "(not characters")]),
    "SSID with a control character": (
        lambda s: edit(s, WIRELESS, "ssid: Riverton Library Public", 'ssid: "Riverton\\tPublic"'),
        [(WIRELESS, "wireless__networks[0].ssid", "contains a control character")]),
    "VLAN 0": (
        lambda s: edit(s, WIRELESS, "vlan: 120", "vlan: 0"),
        [(WIRELESS, "wireless__networks[0].vlan", "greater than or equal to 1 (allowed: an "
                                                  "802.1Q VLAN id, 1-4094)")]),
    "VLAN 4095": (
        lambda s: edit(s, WIRELESS, "vlan: 110", "vlan: 4095"),
        [(WIRELESS, "wireless__networks[1].vlan", "less than or equal to 4094")]),
    "two networks on one VLAN, different isolation": (
        lambda s: edit(s, WIRELESS, "vlan: 110", "vlan: 120"),
        [(WIRELESS, "wireless__networks[1].isolation", "VLAN 120 also carries "
                                                       "wireless__networks[0] with different "
                                                       "isolation")]),
    "Enterprise without a CA certificate": (
        lambda s: edit(s, WIRELESS, "    ca_cert: |\n", "    ca_cert_removed: |\n"),
        [(WIRELESS, "wireless__networks[1].ca_cert", "missing: an Enterprise network needs it: "
                                                     "without it clients trust any server "
                                                     "(allowed: the PEM text of the CA"),
         (WIRELESS, "wireless__networks[1].ca_cert_removed", "unknown key")]),
    "Enterprise with an empty CA certificate": (
        lambda s: edit(s, WIRELESS, "    ca_cert: |\n", '    ca_cert: ""\n    old_ca: |\n'),
        [(WIRELESS, "wireless__networks[1].ca_cert", "missing: an Enterprise network needs"),
         (WIRELESS, "wireless__networks[1].old_ca", "unknown key")]),
    "Enterprise CA that is not PEM": (
        lambda s: edit(s, WIRELESS, "-----BEGIN CERTIFICATE-----", "-----BEGIN NOTHING-----"),
        [(WIRELESS, "wireless__networks[1].ca_cert", "not a PEM certificate")]),
    "Enterprise without RADIUS servers": (
        lambda s: edit(s, WIRELESS, "    radius_servers:\n", "    radius_servers: []\n    x:\n"),
        [(WIRELESS, "wireless__networks[1].radius_servers", "missing: an Enterprise network "
                                                            "needs it (allowed: at least one "
                                                            "RADIUS server"),
         (WIRELESS, "wireless__networks[1].x", "unknown key")]),
    "RADIUS server by name": (
        lambda s: edit(s, WIRELESS, "address: 192.0.2.11", "address: nps2.riverton.example.org"),
        [(WIRELESS, "wireless__networks[1].radius_servers[1].address", "not an IP address")]),
    "Enterprise without domain-suffix-match": (
        lambda s: edit(s, WIRELESS, "    domain_suffix_match: nps.riverton.example.org\n", ""),
        [(WIRELESS, "wireless__networks[1].domain_suffix_match", "missing: an Enterprise "
                                                                 "network needs")]),
    "CA certificate on a PSK network": (
        lambda s: edit(s, WIRELESS, "    follows_hours: true\n",
                       "    follows_hours: true\n    domain_suffix_match: x.example.org\n"),
        [(WIRELESS, "wireless__networks[0].domain_suffix_match", "only for Enterprise networks")]),
    "country code missing": (
        lambda s: edit(s, WIRELESS, "wireless__country_code: US\n", ""),
        [(WIRELESS, "wireless__country_code", "missing")]),
    "country code of three letters": (
        lambda s: edit(s, WIRELESS, "wireless__country_code: US", "wireless__country_code: USA"),
        [(WIRELESS, "wireless__country_code", "not two upper-case letters (allowed: an ISO "
                                              "3166-1 alpha-2 code")]),
    "country code in lower case": (
        lambda s: edit(s, WIRELESS, "wireless__country_code: US", "wireless__country_code: us"),
        [(WIRELESS, "wireless__country_code", "not two upper-case letters")]),
    "country code NO unquoted (YAML reads false)": (
        lambda s: edit(s, WIRELESS, "wireless__country_code: US", "wireless__country_code: NO"),
        [(WIRELESS, "wireless__country_code", "unquoted: YAML reads NO, YES, ON or OFF as "
                                              "true/false (allowed: a quoted ISO 3166-1")]),
    "one radio interface twice": (
        lambda s: edit(s, AP, "{interface: wlan1, band: 5GHz", "{interface: wlan0, band: 5GHz"),
        [(AP, "wireless_ap__radios", "lists wlan0 more than once (allowed: each once)")]),
    "country code not assigned in ISO 3166-1": (
        lambda s: edit(s, WIRELESS, "wireless__country_code: US", "wireless__country_code: XK"),
        [(WIRELESS, "wireless__country_code", "not an ISO 3166-1 alpha-2 country code")]),
    "a network on a band no access point has": (
        lambda s: edit(s, AP, "band: 5GHz, channel: 44}", "band: 2.4GHz, channel: 11}"),
        [(WIRELESS, "wireless__networks[1].bands", "no access point has a radio on 5GHz: staff "
          "would be served nowhere (allowed: a band some wireless_ap__radios has: 2.4GHz)")]),
    "5GHz channel on the 2.4GHz radio": (
        lambda s: edit(s, AP, "band: 2.4GHz, channel: 1}", "band: 2.4GHz, channel: 36}"),
        [(AP, "wireless_ap__radios[0].channel", "not a 2.4GHz channel (allowed: 2.4GHz "
                                                "channels 1-13")]),
    "2.4GHz channel 13 in the US (wireless-regdb)": (
        lambda s: edit(s, AP, "band: 2.4GHz, channel: 1}", "band: 2.4GHz, channel: 13}"),
        [(AP, "wireless_ap__radios[0].channel", "not allowed for an access point in US by the "
                                                "regulatory database")]),
    "5GHz channel 173 in the US (wireless-regdb)": (
        lambda s: edit(s, AP, "band: 5GHz, channel: 44}", "band: 5GHz, channel: 173}"),
        [(AP, "wireless_ap__radios[1].channel", "not allowed for an access point in US")]),
    "2.4GHz channel 14 (Japan, 802.11b only)": (
        lambda s: edit(s, AP, "band: 2.4GHz, channel: 1}", "band: 2.4GHz, channel: 14}"),
        [(AP, "wireless_ap__radios[0].channel", "channel 14 is Japan-only and 802.11b-only")]),
    "2.4GHz channel on the 5GHz radio": (
        lambda s: edit(s, AP, "band: 5GHz, channel: 44}", "band: 5GHz, channel: 14}"),
        [(AP, "wireless_ap__radios[1].channel", "not a 5GHz channel (allowed: 5GHz channels "
                                                "36-64, 100-144 and 149-177")]),
    "5GHz channel between the sub-bands": (
        lambda s: edit(s, AP, "band: 5GHz, channel: 44}", "band: 5GHz, channel: 42}"),
        [(AP, "wireless_ap__radios[1].channel", "not a 5GHz channel")]),
    "unknown band": (
        lambda s: edit(s, WIRELESS, "bands: [5GHz]", "bands: [6GHz]"),
        [(WIRELESS, "wireless__networks[1].bands[0]", "input should be '2.4GHz' or '5GHz'")]),
    "client group that does not exist": (
        lambda s: edit(s, WIRELESS, "clients: [staff_machines]", "clients: [staff_laptops]"),
        [(WIRELESS, "wireless__networks[1].clients[0]", "not a group of this inventory")]),
    "two networks with one SSID": (
        lambda s: edit(s, WIRELESS, "ssid: Riverton Staff", "ssid: Riverton Library Public"),
        [(WIRELESS, "wireless__networks[1].ssid", "the same SSID as wireless__networks[0]")]),
}

#: Secret edits: (spoil, expected, the secret that must not appear in the output).
BAD_SECRETS = {
    "passphrase of 7 characters": (
        set_secret("public", "passphrase", "Seven77"), "Seven77",
        [(VAULT, "wireless__secrets.public.passphrase", "not 8-63 printable ASCII characters")]),
    "passphrase of 64 characters": (
        set_secret("public", "passphrase", "p" * 64), "p" * 64,
        [(VAULT, "wireless__secrets.public.passphrase", "not 8-63 printable ASCII characters")]),
    "passphrase with a non-ASCII character": (
        set_secret("public", "passphrase", "Bibliothèque2027"), "Bibliothèque2027",
        [(VAULT, "wireless__secrets.public.passphrase", "not 8-63 printable ASCII characters")]),
    "passphrase missing for a PSK network": (
        drop_secret("public", "passphrase"), None,
        [(VAULT, "wireless__secrets.public.passphrase", "missing: a wpa2-psk network needs it")]),
    "RADIUS secret missing for an Enterprise network": (
        drop_secret("staff", "radius_secret"), None,
        [(VAULT, "wireless__secrets.staff.radius_secret", "missing: a wpa3-enterprise network "
                                                          "needs it")]),
    "RADIUS secret too short": (
        set_secret("staff", "radius_secret", "short"), "short",
        [(VAULT, "wireless__secrets.staff.radius_secret", "not 8-128 printable ASCII")]),
    "client password without a client identity": (
        set_secret("staff", "client_password", "Staff-Only-2027!"), "Staff-Only-2027!",
        [(VAULT, "wireless__secrets.staff.client_password", "no client_identity")]),
    "secrets of a network that does not exist": (
        set_secret("guest", "passphrase", "GuestPass2027"), "GuestPass2027",
        [(VAULT, "wireless__secrets.guest", "no network of that name")]),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_wireless_declaration(case, example, bad_input):
    bad_input(example, BAD[case])


@pytest.mark.parametrize("case", BAD_SECRETS)
def test_bad_wireless_secret(case, example, capsys):
    spoil, secret, expected = BAD_SECRETS[case]
    spoil(example)
    lines = assert_problems(example, capsys, expected)
    for value in [secret, *leaves(read_secrets(example))]:
        assert not value or not any(value in line for line in lines)











def test_access_points_need_the_declaration(example, capsys):
    (example / WIRELESS).unlink()
    (example / VAULT).unlink()
    assert_problems(example, capsys, [
        (WIRELESS, "wireless__country_code", "missing"),
        (WIRELESS, "wireless__networks", "missing"),
    ])


def test_lab_radius_servers_stay_on_the_bridge(lab, capsys):
    edit(lab, WIRELESS, "address: 10.123.0.1", "address: 192.0.2.10")
    assert_problems(lab, capsys, [
        (WIRELESS, "wireless__networks[1].radius_servers[0].address",
         "in the lab, not on the bridge (allowed: an address in 10.123.0.0/24)")])


# --- what the roles render from (plain data, no secrets) ------------------------------------


def _example_vars(host="main-ap-01"):
    return load_site(EXAMPLE).hosts[host]


def test_ap_plan_puts_always_on_networks_first_and_names_bss_interfaces():
    hostvars = _example_vars()
    plan = wireless.ap_plan(hostvars["wireless__networks"], hostvars["wireless_ap__radios"],
                            "eth0", "main-ap-01", "198.51.100.31")
    assert [[b["ifname"] for b in r["bss"]] for r in plan["radios"]] == [
        ["wlan0"], ["wlan1", "wlan1-public"]]
    assert [r["bss"][0]["name"] for r in plan["radios"]] == ["public", "staff"]
    assert plan["scheduled"] == {"public": ["wlan0", "wlan1-public"]}
    assert [(v["vlan"], v["interface"], v["bridge"]) for v in plan["vlans"]] == [
        (110, "eth0.110", "br-vlan110"), (120, "eth0.120", "br-vlan120")]
    assert plan["bridges"]["br-vlan120"] == ["wlan0", "wlan1-public"]
    assert {b: p for b, p in plan["bridges"].items() if b != "br-vlan120"} == {
        v["bridge"]: [] for v in plan["vlans"] if not v["isolation"]}
    assert "wireless__secrets" not in str(plan) and "passphrase" not in str(plan)
    secrets = read_secrets(EXAMPLE)
    assert not any(value in str(plan) for value in leaves(secrets))


def test_radius_dynamic_authorization_is_declared_to_the_firewall_and_merges():
    hostvars = _example_vars()
    plan = wireless.ap_plan(hostvars["wireless__networks"], hostvars["wireless_ap__radios"],
                            "eth0", "main-ap-01")
    assert plan["firewall_rules"] == {"3799/udp": {
        "sources": ["192.0.2.10/32"], "comment": "RADIUS dynamic authorization (role wireless_ap)"}}
    rules, problems = firewall.merge([
        ("firewall__rules", hostvars["firewall__rules"]),
        ("firewall__dependent_rules.wireless_ap", plan["firewall_rules"])])
    assert problems == []
    assert firewall.covers(rules, 3799, "udp", "192.0.2.10")
    assert not firewall.covers(rules, 3799, "udp", "192.0.2.11")


def test_client_profiles_follow_the_clients_groups():
    hostvars = _example_vars("main-staff-01")
    staff = wireless.client_profiles(hostvars["wireless__networks"], ["staff_machines"])
    assert [(p["name"], p["key_mgmt"]["nm"], p["key_mgmt"]["pmf"]) for p in staff] == [
        ("staff", "wpa-eap", "3")]
    assert staff[0]["file"] == f"{wireless.NM_CONNECTIONS}/libraryops-staff.nmconnection"
    assert staff[0]["uuid"] == wireless.profile_uuid("staff")
    assert wireless.client_profiles(hostvars["wireless__networks"], ["public_pcs"]) == []


@pytest.mark.parametrize(("value", "escaped"), [
    ("plain", "plain"), (" lead and trail ", "\\slead\\sand\\strail\\s"),
    ("back\\slash", "back\\\\slash"), ("semi;colon#hash", "semi;colon#hash")])
def test_keyfile_strings_are_escaped_for_gkeyfile(value, escaped):
    assert wireless.nm_string(value) == escaped


def test_ssid_forms_are_byte_exact():
    assert wireless.ssid_hex("Bibliothèque") == "Bibliothèque".encode().hex()
    assert wireless.nm_ssid("Aé") == "65;195;169;"


def test_country_list_is_iso_3166_alpha_2():
    codes = wireless.country_codes()
    assert len(codes) == 249
    assert {"US", "CA", "GB", "DE", "DK", "AU"} <= codes
    assert not {"UK", "XK", "EU", "00"} & codes


def _ca_pem(start, end) -> str:
    """A throw-away CA certificate (its key discarded) valid from ``start`` to ``end``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit-test RADIUS CA")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _with_ca(site, pem: str) -> None:
    """The example's staff network pinned to ``pem`` instead of its shipped CA."""
    data = yaml.safe_load((site / WIRELESS).read_text())
    staff = next(n for n in data["wireless__networks"] if n["name"] == "staff")
    text = (site / WIRELESS).read_text()
    shipped = "".join(f"      {line}\n" for line in staff["ca_cert"].splitlines())
    assert shipped in text
    write(site, WIRELESS, text.replace(shipped, "".join(f"      {line}\n"
                                                          for line in pem.splitlines())))


@pytest.mark.parametrize("offsets, problem", [
    ((-400, -1), "the CA expired on 2026-12-06 12:00 UTC: staff devices refuse the RADIUS server"),
    ((1, 400), "the CA is not valid before 2026-12-08 12:00 UTC"),
], ids=["expired", "not yet valid"])
def test_a_radius_ca_not_valid_today_is_refused(example, capsys, offsets, problem):
    """Before: an expired CA passed, and every staff device pinning it lost the staff network."""
    from datetime import UTC, datetime, timedelta

    from libraryops import clock

    now = clock.now()
    assert now == datetime(2026, 12, 7, 12, tzinfo=UTC)  # the unit tests' pinned clock
    _with_ca(example, _ca_pem(*(now + timedelta(days=d) for d in offsets)))
    assert_problems(example, capsys, [(WIRELESS, "wireless__networks[1].ca_cert", problem)])


def test_a_radius_ca_ending_within_30_days_is_a_warning(example, capsys):
    from datetime import timedelta

    from libraryops import clock

    now = clock.now()
    _with_ca(example, _ca_pem(now - timedelta(days=300), now + timedelta(days=29)))
    code, lines = run(example, capsys)
    assert code == 0
    assert lines[0] == (f"{example / WIRELESS}: wireless__networks[1].ca_cert: warning: the CA "
                        "expires on 2027-01-05 12:00 UTC, within 30 days: staff Wi-Fi logins "
                        "stop then (allowed: a CA certificate valid today and beyond the next 30 "
                        "days (renew it, and give the RADIUS server a certificate it signs))")
    assert lines[-1].endswith("OK (1 warning(s))")


def test_ca_expiry_is_each_enterprise_network_s_earliest_not_after():
    """What the monitoring host publishes: the first end among a network's CA certificates."""
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    early, late = datetime(2027, 3, 1, tzinfo=UTC), datetime(2030, 3, 1, tzinfo=UTC)
    networks = yaml.safe_load((EXAMPLE / WIRELESS).read_text())["wireless__networks"]
    staff = next(n for n in networks if n["name"] == "staff")
    staff["ca_cert"] = _ca_pem(start, late) + _ca_pem(start, early)
    assert certificates.ca_expiry(wireless.networks(networks)) == [{"network": "staff",
                                             "not_after": int(early.timestamp())}]
