"""Ansible filters over libraryops.wireless: what an access point or a client renders.

Configured with ``filter_plugins = plugins/filter`` in ``ansible.cfg``. No wireless logic lives
here, and no secret passes through these filters (the templates read ``wireless__secrets``
themselves, in tasks with ``no_log: true``)::

    wireless__networks | wireless_ap_plan(wireless_ap__radios, wireless_ap__uplink_interface,
                                          inventory_hostname, ansible_host)
    wireless__networks | wireless_client_profiles(group_names)
    wireless__networks | wireless_ca_expiry           -> [{network, not_after (epoch s)}]
    "Main Library Public" | wireless_ssid_hex         -> 4d61696e...
    passphrase | nm_keyfile_string                    -> a GKeyFile string value (escaped)
"""

from ansible.errors import AnsibleFilterError
from pydantic import ValidationError

from libraryops import certificates, wireless
from libraryops.plain import plain


def _invalid(exc: ValidationError) -> AnsibleFilterError:
    where = "; ".join(".".join(map(str, e["loc"])) for e in exc.errors(include_url=False))
    return AnsibleFilterError(f"the wireless declaration does not validate ({where}): "
                              "run make validate")


def wireless_ap_plan(networks, radios, uplink, host, address=None):
    """:func:`libraryops.wireless.ap_plan` of one access point.

    Raises:
        AnsibleFilterError: the declaration does not validate.
    """
    try:
        return wireless.ap_plan(plain(networks), plain(radios), str(uplink), str(host),
                                str(address) if address else None)
    except ValidationError as exc:
        raise _invalid(exc) from None


def wireless_client_profiles(networks, groups):
    """:func:`libraryops.wireless.client_profiles` of one host (its ``group_names``).

    Raises:
        AnsibleFilterError: the declaration does not validate.
    """
    try:
        return wireless.client_profiles(plain(networks), plain(groups))
    except ValidationError as exc:
        raise _invalid(exc) from None


def wireless_ca_expiry(networks):
    """:func:`libraryops.certificates.ca_expiry` of the declared networks: each Enterprise
    network's CA end, in epoch seconds.

    Raises:
        AnsibleFilterError: the declaration does not validate.
    """
    try:
        return certificates.ca_expiry(wireless.networks(plain(networks)))
    except ValidationError as exc:
        raise _invalid(exc) from None


def wireless_ssid_hex(ssid):
    """An SSID in hostapd's ``ssid2=`` hex form."""
    return wireless.ssid_hex(str(ssid))


def nm_keyfile_string(value):
    """A NetworkManager keyfile string value, escaped (backslash, spaces, control)."""
    return wireless.nm_string(str(value))


class FilterModule:
    """Ansible's entry point: the filters of this file."""

    def filters(self):
        """Filter name -> function."""
        return {
            "wireless_ap_plan": wireless_ap_plan,
            "wireless_client_profiles": wireless_client_profiles,
            "wireless_ca_expiry": wireless_ca_expiry,
            "wireless_ssid_hex": wireless_ssid_hex,
            "nm_keyfile_string": nm_keyfile_string,
        }
