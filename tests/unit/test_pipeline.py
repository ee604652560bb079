"""Targets that contact hosts or Azure refuse the documentation-only example site."""

import subprocess

import pytest

from libraryops import paths
from libraryops.engines import converge_tags


@pytest.mark.parametrize("target", ["plan", "apply", "verify", "converge", "azure-plan"])
def test_example_site_is_refused(target):
    proc = subprocess.run(["make", target, "SITE=example"], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "is a worked example for documentation" in proc.stdout + proc.stderr


@pytest.mark.parametrize(("target", "variable", "value"), [
    ("validate", "SITE", "x;echo INJECTED"), ("validate", "SITE", "$(shell echo INJECTED)"),
    ("validate", "SITE", "lab extra"), ("validate", "SITE", ""), ("validate", "SITE", "../lab"),
    ("reboot", "LIMIT", "x' -a 'echo INJECTED"), ("converge", "LIMIT", "all;echo INJECTED"),
    ("converge", "TAGS", "sshd;echo INJECTED"),
    ("closures", "YEAR", "2027;echo INJECTED"), ("validate", "INVENTORY", "/tmp/$(echo x)"),
    ("hours", "NOW", "2026-01-01T10:00:00Z`echo INJECTED`"),
    ("bench", "N", "2 5;echo INJECTED"), ("bench", "N", "$(shell echo INJECTED)")])
def test_make_variables_are_checked_before_any_recipe_runs(target, variable, value):
    proc = subprocess.run(["make", "-s", target, f"{variable}={value}"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "INJECTED" not in output.replace(value, "")
    assert f"{variable}=" in output and "(allowed: " in output, output
    assert "Traceback" not in output


def test_make_hours_for_a_missing_site_names_it():
    proc = subprocess.run(["make", "-s", "hours", "SITE=missing"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "inventories/missing" in proc.stderr + proc.stdout
    assert "ansible-inventory" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(("tags", "named"), [
    ("sshd,nosuchrole", "nosuchrole"), ("converged", "converged"), (",", "names no tag")])
def test_converge_tags_name_the_unknown_tag_and_the_allowed_ones(tags, named):
    with pytest.raises(ValueError) as caught:
        converge_tags(tags)
    message = str(caught.value)
    assert named in message.split("(allowed:")[0]
    assert "(allowed: accounts, common, firewall, monitoring, node_exporter, public_pc, sshd," \
        in message


def test_converge_tags_keep_the_order_given_once_each():
    assert converge_tags("sshd,common sshd public_pc") == ("sshd", "common", "public_pc")


@pytest.mark.parametrize("target", ["apply", "catch-up", "plan"])
def test_tags_are_refused_where_everything_must_run(target):
    proc = subprocess.run(["make", "-s", target, "TAGS=sshd"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert f"TAGS applies to `make converge` only, not {target}" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
