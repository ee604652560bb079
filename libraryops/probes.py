"""What the monitoring host's blackbox exporter probes, from the inventory (role monitoring).

One probe job per service patrons and staff use, each target labelled with its ``service`` and
the ``branch`` whose opening hours gate its alert (empty for the Azure services, which alert at
any hour):

- ``catalog``: each branch's ``branch__catalog_url``, an HTTP GET that must answer 2xx
  (the blackbox exporter's ``http`` prober; its default ``valid_status_codes`` are 2xx).
- ``print_queue``: each branch's ``branch__print_queue_uri``. IPP runs over HTTP: an
  ``ipp://host[:port]/path`` URI is reached as ``http://host:port/path`` and ``ipps://`` as
  ``https://``, both on port 631 when the URI names none, not HTTP's 80/443 (RFC 8010, "IPP/1.1:
  Encoding and Transport", the ``ipp`` scheme; RFC 7472, the ``ipps`` scheme). IPP operations
  (RFC 8011, "Model and Semantics") travel as HTTP POSTs of ``application/ipp`` (RFC 8010); a GET
  is no IPP operation, and servers
  answer it with a page or an HTTP error: ippeveprinter 2.4 (the lab's printer) answers 404 on
  its printer URI (tried in the lab); a server may as well answer a page (200), 400, 405, or 426
  when it wants TLS first. So the probe counts any such HTTP
  answer (:data:`IPP_GET_STATUS_CODES`) as up: it proves the print server accepts connections,
  speaks HTTP and, for ipps, holds a certificate the monitoring host trusts; not that it would
  take a job.
- ``access_point``: each host of ``wireless_aps`` at its ``ansible_host``, by ICMP echo (the
  firewall role accepts ICMP on every host). Debian's package gives the exporter CAP_NET_RAW,
  which ICMP needs there (``net.ipv4.ping_group_range`` is ``1 0`` on Debian 12), only when its
  debconf question ``prometheus-blackbox-exporter/want_cap_net_raw`` is answered true.
- ``azure``: each entry of ``monitoring__probe_tcp`` (``name``, ``address``, ``port``), a TCP
  connect.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from libraryops.inventory import BRANCH_GROUP, BRANCH_PREFIX, branch_of

#: The services probed, each with its job (``probe_<service>``) and blackbox exporter module.
SERVICES = ("catalog", "print_queue", "access_point", "azure")
#: Where the access points are (their function group).
ACCESS_POINTS = "wireless_aps"
#: The port of an ipp:// or ipps:// URI that names none (RFC 8010, RFC 7472).
IPP_DEFAULT_PORT = 631
#: HTTP status codes an IPP server answers a GET of its printer URI with (see the module doc):
#: a page (200), bad request (400), not found (404: ippeveprinter), method not allowed (405),
#: upgrade required (426: CUPS wanting TLS). A 5xx, a refused connection, a timeout or a TLS
#: failure is down.
IPP_GET_STATUS_CODES = (200, 400, 404, 405, 426)


def ipp_http_url(uri: str) -> str:
    """The http(s) URL an IPP client connects to for ``uri`` (ipp:// or ipps://)."""
    parts = urlsplit(uri)
    scheme = {"ipp": "http", "ipps": "https"}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return urlunsplit((scheme, f"{host}:{parts.port or IPP_DEFAULT_PORT}", parts.path or "/",
                       parts.query, ""))


def probe_jobs(groups: dict, hostvars: dict, tcp: list[dict]) -> list[dict]:
    """The probe jobs of a site, one per service that has targets, in :data:`SERVICES` order.

    Args:
        groups: group -> host names (Ansible's ``groups``).
        hostvars: host -> its variables (Ansible's ``hostvars``); a branch's facts are read
            from its group's first host.
        tcp: ``monitoring__probe_tcp`` (validated: unique names, an address, a port).

    Returns:
        A list of dicts: ``service``, ``job`` (``probe_<service>``) and ``targets``, each a dict
        of ``target`` (what the exporter probes) and ``labels`` (``instance``: what an alert
        names, ``branch``, ``service``).
    """
    found: dict[str, list[dict]] = {service: [] for service in SERVICES}

    def add(service: str, target: str, instance: str, branch: str) -> None:
        found[service].append({"target": target, "labels": {
            "instance": instance, "branch": branch, "service": service}})

    for group in sorted(g for g in groups if BRANCH_GROUP.fullmatch(g) and groups[g]):
        facts = hostvars[groups[group][0]]
        branch = group.removeprefix(BRANCH_PREFIX)
        if facts.get("branch__catalog_url"):
            add("catalog", facts["branch__catalog_url"], facts["branch__catalog_url"], branch)
        if facts.get("branch__print_queue_uri"):
            uri = facts["branch__print_queue_uri"]
            add("print_queue", ipp_http_url(uri), uri, branch)
    for host in sorted(groups.get(ACCESS_POINTS, [])):
        add("access_point", str(hostvars[host].get("ansible_host", host)), host,
            branch_of(groups, host) or "")
    for service in tcp:
        address = str(service["address"])
        address = f"[{address}]" if ":" in address else address
        add("azure", f"{address}:{service['port']}", service["name"], "")
    return [{"service": service, "job": f"probe_{service}", "targets": targets}
            for service, targets in found.items() if targets]
