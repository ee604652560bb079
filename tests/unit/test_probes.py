"""What the blackbox exporter probes (:mod:`libraryops.probes`), from the shipped sites: every
branch's catalog and print queue, every access point, the declared TCP services; each labelled
with its branch and service; IPP URIs as the URLs an IPP client connects to."""

import importlib

import pytest
from sites import EXAMPLE, LAB

from libraryops.inventory import load_site
from libraryops.probes import SERVICES, ipp_http_url, probe_jobs


@pytest.mark.parametrize(("uri", "url"), [
    ("ipp://10.123.0.1:631/ipp/print", "http://10.123.0.1:631/ipp/print"),
    # RFC 8010 / RFC 7472: 631 is the port of both schemes, not HTTP's.
    ("ipp://print.example.org/ipp/print", "http://print.example.org:631/ipp/print"),
    ("ipps://print.example.org/ipp/print/east", "https://print.example.org:631/ipp/print/east"),
    ("ipps://print.example.org:443/ipp/print", "https://print.example.org:443/ipp/print"),
    ("ipp://[2001:db8::1]/printers/desk", "http://[2001:db8::1]:631/printers/desk"),
])
def test_an_ipp_uri_is_probed_at_the_http_url_its_clients_use(uri, url):
    assert ipp_http_url(uri) == url


def test_the_example_site_probes_each_branch_and_access_point_with_its_labels():
    site = load_site(EXAMPLE)
    tcp = site.hosts[site.groups["monitoring"][0]]["monitoring__probe_tcp"]
    jobs = {job["job"]: job for job in probe_jobs(site.groups, site.hosts, tcp)}
    assert list(jobs) == [f"probe_{service}" for service in SERVICES]
    targets = {(t["labels"]["service"], t["labels"]["branch"]): t
               for job in jobs.values() for t in job["targets"]}
    for branch in ("main", "east"):
        facts = site.hosts[site.groups[f"branch_{branch}"][0]]
        catalog = targets["catalog", branch]
        assert catalog["target"] == catalog["labels"]["instance"] == facts["branch__catalog_url"]
        queue = targets["print_queue", branch]
        assert queue["labels"]["instance"] == facts["branch__print_queue_uri"]
        assert queue["target"] == ipp_http_url(facts["branch__print_queue_uri"])
        ap = targets["access_point", branch]
        assert ap["target"] == site.hosts[ap["labels"]["instance"]]["ansible_host"]
        assert ap["labels"]["instance"] in site.groups["wireless_aps"]
    assert jobs["probe_azure"]["targets"] == [{"target": f"{s['address']}:{s['port']}", "labels": {
        "instance": s["name"], "branch": "", "service": "azure"}} for s in tcp]
    # 2 branches x 3 services and the declared ones: nothing else
    assert sum(len(job["targets"]) for job in jobs.values()) == 6 + len(tcp)


def test_no_declared_service_no_azure_job_and_the_filter_gives_the_same():
    site = load_site(LAB)
    jobs = probe_jobs(site.groups, site.hosts, [])
    assert [job["service"] for job in jobs] == ["catalog", "print_queue", "access_point"]
    plugin = importlib.import_module("plugins.filter.monitoring").FilterModule().filters()
    assert plugin["probe_jobs"](site.groups, site.hosts, []) == jobs
