"""The bench's pure parts (tools/bench/, its Ansible filter plugins): no hosts, no timing."""

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from libraryops import paths
from libraryops.cloud import spec
from tools.bench import report, sampling, settings, sites

FILTERS = paths.REPO / "tools" / "bench" / "filter_plugins" / "deploy_source.py"


@pytest.fixture(scope="module")
def deploy_source(load_module):
    return load_module(FILTERS)


def test_the_generated_azure_spec_is_valid_and_has_exactly_the_asked_items(tmp_path):
    for total in (50, 20, 12):
        document = sites.azure_document(total)
        (tmp_path / "azure.yml").write_text(yaml.safe_dump(document))
        spec.load(tmp_path)
        resources = sum(len(items) for items in document["resources"].values())
        assert resources + len(document["resource_groups"]) == total
    with pytest.raises(ValueError):
        sites.azure_document(11)


def test_bench_hosts_stay_in_their_address_range():
    network = ipaddress.IPv4Network("10.123.0.0/24")
    hosts = sites.bench_hosts(network, 10)
    assert hosts["bench-pub-01"] == "10.123.0.150" and hosts["bench-pub-10"] == "10.123.0.159"
    proof = sites.bench_hosts(network, 2, settings.PROOF_PREFIX, settings.PROOF_OFFSET)
    assert list(proof.values()) == ["10.123.0.168", "10.123.0.169"]
    assert not set(sites.bench_hosts(network, settings.MAX_HOSTS).values()) & set(proof.values())
    with pytest.raises(settings.BenchError):
        sites.bench_hosts(network, settings.MAX_HOSTS + 1)


@pytest.mark.parametrize("hosts", ["0", "2 19", "two", ""])
def test_bench_host_counts_are_checked_before_anything_starts(hosts, capsys):
    """Before: 19 passed the command line and failed later, as a run that measured nothing."""
    from tools.bench.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["--hosts", hosts])
    assert stopped.value.code == 2
    assert "--hosts" in capsys.readouterr().err


def test_hosts_yaml_makes_public_pcs_of_branch_main():
    text = sites.hosts_yaml({"bench-pub-01": "10.123.0.150", "bench-pub-02": "10.123.0.151"})
    children = yaml.safe_load(text)["all"]["children"]
    assert children["public_pcs"]["hosts"]["bench-pub-02"] == {"ansible_host": "10.123.0.151"}
    assert set(children["branch_main"]["hosts"]) == {"bench-pub-01", "bench-pub-02"}


def _sample(engine, phase, n, seconds, rep=1, **extra):
    return settings.Sample(engine, phase, n, rep, seconds, 0, **extra)


def test_rows_carry_median_range_floor_and_engine_ratios():
    samples = [
        _sample("ssh", "floor-cm-off", 2, 0.5), _sample("ssh", "floor-cm-off", 2, 0.4, rep=2),
        _sample("pyinfra", "noop", 2, 4.0, changes=0), _sample("pyinfra", "noop", 2, 6.0, rep=2,
                                                               changes=0),
        _sample("ansible", "noop", 2, 20.0, changes=0),
        _sample("azure", "plan", None, 1.0, requests=77),
    ]
    rows = {(r.engine, r.phase): r for r in report.summarize(samples, {"ansible/noop/2": 1})}
    pyinfra = rows["pyinfra", "noop"]
    assert (pyinfra.median, pyinfra.low, pyinfra.high, pyinfra.runs) == (5.0, 4.0, 6.0, 2)
    assert pyinfra.floor_ratio == pytest.approx(5.0 / 0.45, abs=0.1)
    assert pyinfra.pyinfra_ansible == 0.25
    assert rows["ansible", "noop"].skipped == 1 and rows["ansible", "noop"].pyinfra_ansible is None
    assert rows["azure", "plan"].floor_ratio is None and rows["azure", "plan"].requests == 77
    table = report.format_table(list(rows.values()), largest=2)
    assert "| pyinfra | no-op re-converge | 2 | 2 | 5.0 | 4.0–6.0 |" in table
    assert "(1 skipped: time budget)" in table


def test_goals_state_each_figure_and_whether_it_is_met():
    samples = [
        _sample("ssh", "floor-cm-off", 2, 0.5), _sample("ssh", "floor-cm-off", 10, 1.0),
        _sample("baseline", "noop", 2, 8.0, changes=0),
        _sample("baseline", "noop", 10, 60.0, changes=0),
        _sample("pyinfra", "noop", 10, 2.5, changes=0),
        _sample("testinfra", "verify-xdist", 10, 12.0),
    ]
    lines = report.goals(report.summarize(samples))
    assert "- baseline no-op ≤ 5 s per host: 4.0 s at N=2, 6.0 s at N=10 — not met" in lines
    assert "- baseline no-op growing ≤ 2× from N=2 to N=10: 7.50× — not met" in lines
    assert "- verify of 10 PCs ≤ 10 s: 12.0 s — not met" in lines
    assert "- pyinfra no-op of 10 PCs ≤ 3× the SSH floor: 2.5× — met" in lines
    smoke = report.goals(report.summarize(samples[:1]))
    assert "- baseline no-op: not measured in this run (the smoke has none)" in smoke


def test_the_tree_sampler_counts_children_and_not_other_processes():
    known = sampling.all_pids()
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, sys; b = b'x' * (64 << 20); "
                              "subprocess.run([sys.executable, '-c', 'import time; "
                              "x = b\"y\" * (32 << 20); time.sleep(1)'])"])
    sampler = sampling.TreeSampler(child.pid, known)
    sampler.start()
    child.wait()
    time.sleep(0.2)
    assert sampler.stop() > 64 + 32
    assert sampling.TreeSampler(os.getpid(), sampling.all_pids()).sample() > 0


def test_deploy_constants_are_the_deploys_own_values(deploy_source):
    from deploy import devices, idle, kiosk, packages, power, reset

    assert deploy_source.deploy_constant("kiosk.DESKTOP_PACKAGES") == kiosk.DESKTOP_PACKAGES
    assert deploy_source.deploy_constant("kiosk.CLEANUP_SCRIPT") == reset.CLEANUP_SCRIPT
    assert deploy_source.deploy_constant("packages.INDEX_MAX_AGE") == packages.INDEX_MAX_AGE
    assert deploy_source.deploy_constant("devices._CUPSD_PRIVACY") == devices._CUPSD_PRIVACY
    assert deploy_source.deploy_constant("idle.UNIT") == idle.UNIT
    assert deploy_source.deploy_constant("power.MANAGED_UNITS") == sorted(power.MANAGED_UNITS)
    assert deploy_source.deploy_constant("power.CLOSURES_PATH") == power.CLOSURES_PATH
    with pytest.raises(KeyError):
        deploy_source.deploy_constant("kiosk.TEMPLATES")  # a runtime value, not a constant


def test_deploy_defaults_and_functions_are_the_deploys(deploy_source):
    from deploy.browser import render_policies
    from deploy.defaults import DEFAULTS

    assert deploy_source.deploy_constant("defaults.DEFAULTS") == DEFAULTS
    args = ("http://10.123.0.1/catalog/", "/home/patron", [], ["*://*.invalid/*"])
    assert deploy_source.deploy_call("browser.render_policies", *args) == render_policies(*args)


def test_deploy_templates_render_as_pyinfra_renders_them(deploy_source):
    from pyinfra.api.util import get_template

    context = {"patron": "patron", "session": "xfce", "cleanup_script": "/x",
               "xserver_command": "Xvfb :0 -I"}
    source = Path(paths.REPO / "deploy" / "templates" / "lightdm.conf.j2")
    expected = get_template(str(source)).render(**context)
    assert deploy_source.deploy_template("lightdm.conf.j2", **context) == expected
    assert expected.endswith("-I\n\n")
