"""Role monitoring: Prometheus on the monitoring hosts accepts its configuration (promtool, the
program's own check) and scrapes exactly the inventory's hosts' node exporters, each labelled
with the host's name, branch and function group, each up (Prometheus' own targets API: the
configured targets, not series left from an earlier configuration, such as the Debian
package's default one it ran before the first converge). Alertmanager accepts its configuration
(amtool), listens on loopback only, is the Alertmanager Prometheus sends to, and e-mails the
inventory's addresses through its relay (its own status API: the configuration it runs). The
blackbox exporter accepts its modules (its own --config.check), listens on loopback only, and
Prometheus probes through it each catalog, print queue and access point of the inventory (and the
declared TCP services), each probe succeeding in the lab. promtool unit-tests the probe alerts: a
failing probe fires while its branch is staffed and not while it is closed; an Azure service's
at any hour."""

import json
import shlex
import time

import pytest
import yaml

from libraryops import probes

testinfra_hosts = ["ansible://monitoring"]

FUNCTION_GROUPS = ("public_pcs", "staff_machines", "wireless_aps")


def _get(host, url):
    """The JSON document at ``url``, fetched on the host itself."""
    fetch = ("import urllib.request; print(urllib.request.urlopen("
             f"{url!r}, timeout=10).read().decode())")
    return json.loads(host.check_output(f"python3 -c {shlex.quote(fetch)}"))


def _targets(host, port):
    """instance -> labels and health of Prometheus' active targets of the job ``node``."""
    data = _get(host, f"http://localhost:{port}/api/v1/targets?state=active")["data"]
    return {t["labels"]["instance"]: {**t["labels"], "health": t["health"]}
            for t in data["activeTargets"] if t["labels"].get("job") == "node"}


def _expected(groups):
    """instance -> the labels Prometheus should give it, from the inventory's groups."""
    def member(host, names):
        return next((g for g in sorted(names) if host in groups.get(g, [])), "")

    branches = [g for g in groups if g.startswith("branch_")]
    return {h: {"instance": h, "job": "node", "health": "up",
                "branch": member(h, branches).removeprefix("branch_"),
                "function": member(h, FUNCTION_GROUPS)}
            for h in groups["all"]}


def test_promtool_accepts_the_configuration(host, role_vars):
    path = role_vars("monitoring")["monitoring__config_path"]
    host.check_output(f"promtool check config {path}")
    service = host.service("prometheus")
    assert service.is_enabled and service.is_running


def test_prometheus_scrapes_every_inventory_host_with_its_labels(host, role_vars, inventory_vars):
    port = role_vars("monitoring")["monitoring__port"]
    expected = _expected(inventory_vars["groups"])
    deadline = time.monotonic() + 90  # a converge may just have reloaded it: a scrape or two
    found = _targets(host, port)
    while found != expected and time.monotonic() < deadline:
        time.sleep(5)
        found = _targets(host, port)
    assert found == expected


def test_alertmanager_runs_on_loopback_what_amtool_accepts(host, role_vars):
    settings = role_vars("monitoring")
    host.check_output(f"amtool check-config {settings['monitoring__alertmanager_config_path']}")
    service = host.service("prometheus-alertmanager")
    assert service.is_enabled and service.is_running
    port = settings["monitoring__alertmanager_port"]
    listening = [str(s) for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    assert listening == [f"tcp://127.0.0.1:{port}"]
    # No cluster listener: a lone Alertmanager gossips with nobody.
    assert not [s for s in host.socket.get_listening_sockets() if s.endswith(":9094")]


def test_prometheus_sends_to_alertmanager_which_mails_the_inventory_addresses(host, role_vars):
    settings = role_vars("monitoring")
    managers = _get(host, f"http://localhost:{settings['monitoring__port']}"
                          "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    assert [m["url"] for m in managers] == [
        f"http://localhost:{settings['monitoring__alertmanager_port']}/api/v2/alerts"]
    status = _get(host, f"http://localhost:{settings['monitoring__alertmanager_port']}"
                        "/api/v2/status")
    running = yaml.safe_load(status["config"]["original"])
    (receiver,) = running["receivers"]
    assert running["route"]["receiver"] == receiver["name"]
    if not settings["monitoring__alert_emails"]:
        assert "email_configs" not in receiver
        return
    assert running["global"]["smtp_smarthost"] == settings["monitoring__smtp_smarthost"]
    assert running["global"]["smtp_from"] == settings["monitoring__smtp_from"]
    (email,) = receiver["email_configs"]
    assert email["to"] == ", ".join(settings["monitoring__alert_emails"])
    assert email["send_resolved"] is True


def test_promtool_fires_the_reset_alert_at_once_and_until_a_reset_succeeds(host, role_vars):
    labels = PC_LABELS
    selector = _selector(labels)
    summary = ("the last session reset on pc-under-test failed: the next patron may find the "
               "last one's files")
    firing = _firing(labels, "page", summary)
    document = {
        "rule_files": [role_vars("monitoring")["monitoring__rules_path"]],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m",
                   "input_series": [{"series": f"libraryops_session_reset_ok{{{selector}}}",
                                     "values": "1 1 0 0 1"}],
                   "alert_rule_test": [
                       {"eval_time": "1m", "alertname": "SessionResetFailed", "exp_alerts": []},
                       {"eval_time": "2m", "alertname": "SessionResetFailed",
                        "exp_alerts": firing},
                       {"eval_time": "3m", "alertname": "SessionResetFailed",
                        "exp_alerts": firing},
                       {"eval_time": "4m", "alertname": "SessionResetFailed", "exp_alerts": []},
                   ]}],
    }
    _promtool_test(host, document)


def test_promtool_fires_the_disk_alert_after_15_minutes_below_the_threshold(host, role_vars):
    settings = role_vars("monitoring")
    threshold = settings["monitoring__disk_free_percent"]
    labels = {"job": "node", "instance": "pc-under-test", "device": "/dev/sda1",
              "mountpoint": "/", "fstype": "ext4"}
    selector = _selector(labels)
    below = threshold - 1  # percent free once the disk fills, at minute 20
    series = [
        {"series": f"node_filesystem_avail_bytes{{{selector}}}",
         "values": f"{threshold + 10}x20 {below}x30"},
        {"series": f"node_filesystem_size_bytes{{{selector}}}", "values": "100x50"},
        {"series": f"node_filesystem_readonly{{{selector}}}", "values": "0x50"},
    ]
    firing = _firing(labels, "ticket", f"/ on pc-under-test has {below}% free")
    checks = [{"eval_time": "34m", "alertname": "DiskNearlyFull", "exp_alerts": []},
              {"eval_time": "36m", "alertname": "DiskNearlyFull", "exp_alerts": firing}]
    _promtool_test(host, {"rule_files": [settings["monitoring__rules_path"]],
                          "evaluation_interval": "1m",
                          "tests": [{"interval": "1m", "input_series": series,
                                     "alert_rule_test": checks}]})


def _probe_expected(host, inventory_vars, settings):
    """(job, instance) -> labels, health: the probes the inventory asks for
    (:func:`libraryops.probes.probe_jobs`), each answered by the blackbox exporter."""
    runner = host.backend.ansible_runner
    groups = inventory_vars["groups"]
    hostvars = {name: runner.get_variables(name) for name in groups["all"]}
    jobs = probes.probe_jobs(groups, hostvars, settings["monitoring__probe_tcp"])
    return {(job["job"], t["labels"]["instance"]): {
                **{k: v for k, v in t["labels"].items() if v},  # Prometheus drops empty labels
                "job": job["job"], "health": "up"}
            for job in jobs for t in job["targets"]}


def _probe_targets(host, port):
    data = _get(host, f"http://localhost:{port}/api/v1/targets?state=active")["data"]
    return {(t["labels"]["job"], t["labels"]["instance"]): {**t["labels"], "health": t["health"]}
            for t in data["activeTargets"] if t["labels"]["job"].startswith("probe_")}


def test_blackbox_exporter_runs_on_loopback_what_its_check_accepts(host, role_vars):
    settings = role_vars("monitoring")
    host.check_output("prometheus-blackbox-exporter --config.check "
                      f"--config.file={settings['monitoring__blackbox_config_path']}")
    service = host.service("prometheus-blackbox-exporter")
    assert service.is_enabled and service.is_running
    port = settings["monitoring__blackbox_port"]
    listening = [str(s) for s in host.socket.get_listening_sockets() if s.endswith(f":{port}")]
    assert listening == [f"tcp://127.0.0.1:{port}"]
    # Debian's postinst gave the binary CAP_NET_RAW (its debconf answer): ICMP to the APs.
    assert "cap_net_raw=ep" in host.check_output(
        "getcap /usr/bin/prometheus-blackbox-exporter")


def test_prometheus_probes_each_service_of_the_inventory_and_each_answers(host, role_vars,
                                                                          inventory_vars):
    """A job per service (catalog, print queue, access point; Azure when declared), each
    target labelled with its branch and service and scraped; each probe succeeding (the lab
    serves the catalog page and the printer on the bridge, the AP answers ICMP)."""
    settings = role_vars("monitoring")
    port = settings["monitoring__port"]
    expected = _probe_expected(host, inventory_vars, settings)
    assert {job for job, _ in expected} >= {"probe_catalog", "probe_print_queue",
                                            "probe_access_point"}
    deadline = time.monotonic() + 90  # a converge may just have reloaded it: a scrape or two

    def failing():
        found = _get(host, f"http://localhost:{port}/api/v1/query?query="
                           "probe_success%20%3D%3D%201")["data"]["result"]
        succeeding = {(s["metric"]["job"], s["metric"]["instance"]) for s in found}
        return sorted(set(expected) - succeeding)

    found, down = _probe_targets(host, port), failing()
    while (found != expected or down) and time.monotonic() < deadline:
        time.sleep(5)
        found, down = _probe_targets(host, port), failing()
    assert found == expected
    assert down == []


def _probe_test(settings, state, labels, alertname, fires):
    """One test group of promtool's unit-test file: the probe of ``labels`` failing from minute
    1 while its branch is in ``state`` (the state timers' series); ``alertname`` is checked
    pending before the rule's "for" has passed, then firing (``fires``) or silent."""
    minutes = settings["monitoring__down_minutes"]
    labels = {k: v for k, v in labels.items() if v}  # Prometheus drops empty labels
    selector = _selector(labels)
    series = [{"series": f"probe_success{{{selector}}}", "values": f"1 0x{minutes + 5}"}]
    if labels.get("branch"):
        series += [{"series": f'libraryops_branch_state{{job="node",branch="{labels["branch"]}",'
                              f'state="{known}"}}',
                    "values": f"{int(known == state)}x{minutes + 6}"}
                   for known in ("closed", "wake_lead", "open", "patch")]
    summary = (f"{labels['instance']} does not accept connections" if labels["service"] == "azure"
               else f"{labels['service']} {labels['instance']} is down while branch "
                    f"{labels.get('branch')} is staffed")
    firing = _firing(labels, "page", summary) if fires else []
    return {"interval": "1m", "input_series": series, "alert_rule_test": [
        {"eval_time": f"{minutes}m", "alertname": alertname, "exp_alerts": []},
        {"eval_time": f"{minutes + 2}m", "alertname": alertname, "exp_alerts": firing}]}


@pytest.mark.parametrize("service", ["catalog", "print_queue", "access_point"])
def test_promtool_fires_a_failing_probe_while_staffed_and_not_while_closed(host, role_vars,
                                                                           service):
    settings = role_vars("monitoring")
    labels = {"job": f"probe_{service}", "instance": f"{service}-under-test",
              "branch": "under_test", "service": service}
    tests = [_probe_test(settings, state, labels, "ServiceDownWhileStaffed", fires)
             for state, fires in (("open", True), ("wake_lead", True), ("closed", False),
                                  ("patch", False))]
    _promtool_test(host, {"rule_files": [settings["monitoring__rules_path"]],
                          "evaluation_interval": "1m", "tests": tests})


def test_promtool_fires_a_failing_azure_probe_at_any_hour(host, role_vars):
    settings = role_vars("monitoring")
    labels = {"job": "probe_azure", "instance": "libki", "branch": "", "service": "azure"}
    tests = [_probe_test(settings, "closed", labels, "AzureServiceDown", True)]
    _promtool_test(host, {"rule_files": [settings["monitoring__rules_path"]],
                          "evaluation_interval": "1m", "tests": tests})


def _updates_case(values: str, evaluations: dict[str, bool]) -> dict:
    """A promtool test of SecurityUpdatesNotInstalled: one host's pending security updates
    (``values`` in promtool's series notation, a sample every 15 minutes; ``_`` = the host is
    off) and, per evaluation time, whether the alert fires."""
    labels = PC_LABELS
    selector = _selector(labels)
    origin = 'origin="Debian:bookworm-security/stable-security",arch="amd64"'
    series = f"apt_upgrades_pending{{{selector},{origin}}}"
    summary = ("security updates have waited on pc-under-test for over a day: its patch windows "
               "do not install them")
    # The rule sums by instance, branch and function: job is gone.
    firing = _firing({k: v for k, v in labels.items() if k != "job"}, "ticket", summary)
    return {"interval": "15m", "input_series": [{"series": series, "values": values}],
            "alert_rule_test": [{"eval_time": at, "alertname": "SecurityUpdatesNotInstalled",
                                 "exp_alerts": firing if fires else []}
                                for at, fires in evaluations.items()]}


def test_promtool_fires_the_updates_alert_only_after_a_day_of_pending_security_updates(
        host, role_vars):
    """Pending for 30 hours: fires after 26 (not at 20). A PC off 12 hours a night (gaps)
    with the updates still pending: fires. Pending only since 3 hours: no. Installed by the
    next patch window: no."""
    on, off = "1x47", "_x47"
    cases = [
        _updates_case("1x120", {"20h": False, "27h": True}),
        _updates_case(f"{on} {off} {on} {off}", {"37h": True}),
        _updates_case("_x100 1x20", {"28h": False}),
        _updates_case("1x48 0x80", {"27h": False, "31h": False}),
    ]
    _promtool_test(host, {"rule_files": [role_vars("monitoring")["monitoring__rules_path"]],
                          "evaluation_interval": "15m", "tests": cases})


def test_promtool_fires_the_reboot_alert_only_while_the_branch_is_open(host, role_vars):
    labels = PC_LABELS
    selector = _selector(labels)
    summary = ("pc-under-test still needs a reboot for its updates while branch under_test is "
               "open: the patch window did not reboot it")
    firing = _firing(labels, "ticket", summary)
    state = 'libraryops_branch_state{{branch="under_test",state="{}"}}'
    series = [{"series": f"node_reboot_required{{{selector}}}", "values": "1x120"},
              # The patch window for the first hour, then the branch opens.
              {"series": state.format("patch_window"), "values": "1x60 0x60"},
              {"series": state.format("open"), "values": "0x60 1x60"}]
    checks = [{"eval_time": "50m", "alertname": "RebootPendingAfterPatchWindow",
               "exp_alerts": []},
              {"eval_time": "85m", "alertname": "RebootPendingAfterPatchWindow",
               "exp_alerts": []},
              {"eval_time": "95m", "alertname": "RebootPendingAfterPatchWindow",
               "exp_alerts": firing}]
    _promtool_test(host, {"rule_files": [role_vars("monitoring")["monitoring__rules_path"]],
                          "evaluation_interval": "1m",
                          "tests": [{"interval": "1m", "input_series": series,
                                     "alert_rule_test": checks}]})


def test_the_monitoring_host_publishes_each_radius_ca_s_end(host, role_vars, inventory_vars):
    """The end of every Enterprise network's CA, read here from the inventory's PEM with
    cryptography, is what the monitoring host publishes and Prometheus holds."""
    from cryptography import x509

    expected = {net["name"]: int(min(c.not_valid_after_utc.timestamp() for c in
                                     x509.load_pem_x509_certificates(net["ca_cert"].encode())))
                for net in inventory_vars["wireless__networks"] if net.get("ca_cert")}
    assert expected, "the lab declares an Enterprise network"
    textfile = role_vars("node_exporter")["node_exporter__textfile_dir"]
    published = host.file(f"{textfile}/libraryops_certificates.prom").content_string
    for network, not_after in expected.items():
        assert (f'libraryops_radius_ca_not_after_seconds{{network="{network}"}} {not_after}'
                in published.splitlines())
    port = role_vars("monitoring")["monitoring__port"]
    query = "libraryops_radius_ca_not_after_seconds"
    for _ in range(30):  # the next scrape of the monitoring host's own exporter
        result = _get(host, f"http://localhost:{port}/api/v1/query?query={query}")
        held = {r["metric"]["network"]: int(float(r["value"][1]))
                for r in result["data"]["result"]}
        if held == expected:
            break
        time.sleep(1)
    assert held == expected


def test_promtool_fires_the_certificate_alerts_within_the_warning_days(host, role_vars):
    """Certificates ending warning days + 10 after the test's start: silent on day 5 and at
    day 10 (exactly the warning days left), the CA's alert at once an hour later, the HTTPS
    probe's after its hour, both on day 11."""
    settings = role_vars("monitoring")
    days = settings["monitoring__certificate_warn_days"]
    end = (days + 10) * 86400  # seconds after the test's start (promtool starts at 0)
    ca = {"job": "node", "instance": "staff-under-test", "network": "staff"}
    probe = {"job": "probe_catalog", "instance": "catalog-under-test", "service": "catalog",
             "branch": "under_test"}
    hours = 12 * 24
    series = [{"series": f"libraryops_radius_ca_not_after_seconds{{{_selector(ca)}}}",
               "values": f"{end}x{hours}"},
              {"series": f"probe_ssl_earliest_cert_expiry{{{_selector(probe)}}}",
               "values": f"{end}x{hours}"}]

    def check(at: str, hour: int, ca_fires: bool, probe_fires: bool) -> list[dict]:
        left = f"{(end - hour * 3600) / 86400:.0f}"
        return [{"eval_time": at, "alertname": "RadiusCAExpiringSoon",
                 "exp_alerts": _firing(ca, "ticket", f"the RADIUS CA of network staff ends in "
                                       f"{left} days: staff Wi-Fi logins stop then")
                 if ca_fires else []},
                {"eval_time": at, "alertname": "CertificateExpiringSoon",
                 "exp_alerts": _firing(probe, "ticket", f"the certificate of catalog "
                                       f"catalog-under-test ends in {left} days")
                 if probe_fires else []}]

    checks = (check("5d", 5 * 24, False, False) + check("10d", 10 * 24, False, False)
              + check("241h", 241, True, False) + check("11d", 11 * 24, True, True))
    _promtool_test(host, {"rule_files": [settings["monitoring__rules_path"]],
                          "evaluation_interval": "1h",
                          "tests": [{"interval": "1h", "input_series": series,
                                     "alert_rule_test": checks}]})


#: The public PC the rule tests invent (its branch "under_test" has no real hours).
PC_LABELS = {"job": "node", "instance": "pc-under-test", "branch": "under_test",
             "function": "public_pcs"}


def _selector(labels: dict[str, str]) -> str:
    """A PromQL label selector's inside: ``job="node",instance="..."``."""
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def _firing(labels: dict[str, str], severity: str, summary: str) -> list[dict]:
    """promtool's ``exp_alerts`` for one alert of ``labels`` plus ``severity``."""
    return [{"exp_labels": {**labels, "severity": severity},
             "exp_annotations": {"summary": summary}}]


def _promtool_test(host, document):
    """Run ``promtool test rules`` on the monitoring host with ``document`` (its unit-test
    file format); fail with promtool's report."""
    path = "/tmp/libraryops-rules-unit-test.json"
    host.check_output(f"printf '%s' {shlex.quote(json.dumps(document))} > {path}")
    result = host.run(f"promtool test rules {path}; status=$?; rm -f {path}; exit $status")
    assert result.rc == 0, result.stdout + result.stderr
