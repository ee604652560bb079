"""X.509 certificates the inventory carries (the RADIUS CA an Enterprise network's devices pin),
read with ``cryptography``: the certificates of a PEM text, and when each network's CA ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography import x509


def ca_certificates(value: str) -> list[x509.Certificate]:
    """The certificates of a PEM text (one or several ``-----BEGIN CERTIFICATE-----`` blocks).

    Raises:
        ValueError: the text holds no PEM certificate, or a damaged one.
    """
    return x509.load_pem_x509_certificates(value.encode())


def ca_expiry(networks: Iterable[Any]) -> list[dict[str, Any]]:
    """When each network's pinned CA stops being valid: ``[{"network": name, "not_after":
    seconds since the epoch (UTC)}]``, the earliest notAfter of its CA certificates (RFC 5280
    section 4.1.2.5), for the monitoring host to publish. ``networks``: validated networks
    (:class:`libraryops.wireless.Network`: ``name``, ``ca_cert``); those without a CA are left
    out."""
    return [{"network": network.name,
             "not_after": int(min(c.not_valid_after_utc
                                  for c in ca_certificates(network.ca_cert)).timestamp())}
            for network in networks if network.ca_cert]
