"""Ansible filters of role monitoring over :mod:`libraryops.probes`: the blackbox exporter's probe
jobs, as plain data (no probe logic lives here). Usage in a template::

    {% for job in groups | probe_jobs(hostvars, monitoring__probe_tcp) %}...{% endfor %}
"""

from libraryops.plain import plain
from libraryops.probes import IPP_GET_STATUS_CODES
from libraryops.probes import probe_jobs as _probe_jobs


def probe_jobs(groups, hostvars, tcp):
    """:func:`libraryops.probes.probe_jobs` on Ansible's ``groups`` and ``hostvars``: the probe
    jobs (list of dicts: service, job, targets)."""
    hosts = {host: {key: plain(hostvars[host].get(key)) for key in
                    ("ansible_host", "branch__catalog_url", "branch__print_queue_uri")}
             for host in hostvars}
    return _probe_jobs(plain(groups), hosts, plain(tcp))


def ipp_get_status_codes(_=None):
    """:data:`libraryops.probes.IPP_GET_STATUS_CODES` as a list (the print queue module's)."""
    return list(IPP_GET_STATUS_CODES)


class FilterModule:
    """Ansible's entry point: the filters of this file."""

    def filters(self):
        """Filter name -> function."""
        return {"probe_jobs": probe_jobs, "ipp_get_status_codes": ipp_get_status_codes}
