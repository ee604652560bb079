"""Review and delivery on the lab: plan, apply (canary first) and the verification report.

Runs after tests/integration/test_lab.py has converged the lab. Edited inventories are copies
of the lab site in tmp_path (nothing under inventories/ changes).
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from libraryops import paths
from libraryops.inventory import load_site

LAB = load_site(paths.site_dir("lab"))
REPORTS = paths.REPORTS / "lab"
PUBLIC_PCS = LAB.groups["public_pcs"]
SSH_CONFIG = f"{LAB.hosts[PUBLIC_PCS[0]]['lab__state_dir']}/ssh/config"


def pipeline(*args, inventory=None):
    argv = [sys.executable, "-m", "libraryops.pipeline", *args, "--site", "lab"]
    if inventory:
        argv += ["--inventory", str(inventory)]
    return subprocess.run(argv, cwd=paths.REPO, capture_output=True, text=True, check=False)


@pytest.fixture
def lab_copy(tmp_path) -> Path:
    return Path(shutil.copytree(paths.site_dir("lab"), tmp_path / "lab"))


def test_plan_of_the_converged_lab_shows_no_changes():
    proc = pipeline("plan")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = (REPORTS / "plan" / "plan-summary.md").read_text()
    assert "ansible would change" in summary and "pyinfra would change" in summary
    plan = json.loads((REPORTS / "plan" / "plan.json").read_text())
    assert set(plan["hosts"]) == set(LAB.hosts)


def test_plan_after_editing_a_group_var_shows_changes_on_the_public_pcs(lab_copy):
    settings = lab_copy / "group_vars" / "public_pcs" / "public_pc.yml"
    text = settings.read_text()
    assert "public_pc__idle_logout_minutes: 15" in text
    settings.write_text(text.replace("public_pc__idle_logout_minutes: 15",
                                     "public_pc__idle_logout_minutes: 25"))
    proc = pipeline("plan", inventory=lab_copy)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    plan = json.loads((REPORTS / "plan" / "plan.json").read_text())
    for host in PUBLIC_PCS:
        assert plan["hosts"][host]["changes"]["pyinfra"] >= 1


def test_plan_with_a_host_stopped_plans_the_others_and_names_it():
    stopped = LAB.groups["wireless_aps"][0]
    address = LAB.hosts[stopped]["ansible_host"]
    subprocess.run(["ssh", "-F", SSH_CONFIG, f"root@{address}", "systemctl poweroff"],
                   check=False, timeout=30)
    time.sleep(3)
    try:
        proc = pipeline("plan")
        plan = json.loads((REPORTS / "plan" / "plan.json").read_text())
        summary = (REPORTS / "plan" / "plan-summary.md").read_text()
    finally:
        subprocess.run(["make", "lab-up"], cwd=paths.REPO, check=True)
    assert proc.returncode == 1
    assert plan["hosts"][stopped]["unreachable"]
    assert f"**Unreachable, not planned:** {stopped}" in summary
    for host in set(LAB.hosts) - {stopped}:
        assert not plan["hosts"][host]["unreachable"]
        assert "ansible" in plan["hosts"][host]["changes"], host


def test_apply_stops_before_the_batch_when_the_canary_fails(lab_copy):
    canary, *rest = PUBLIC_PCS
    host_vars = lab_copy / "host_vars" / canary
    host_vars.mkdir(parents=True)
    # A typo in a package list for the canary only: its deploy fails at the install.
    (host_vars / "public_pc.yml").write_text(
        "---\npublic_pc__xserver_packages: [xvfb, libraryops-no-such-package]\n")
    proc = pipeline("apply", "--force", "--limit", "public_pcs", inventory=lab_copy)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    for host in rest:  # the host-state line (libraryops.hoststate) of each PC left out
        assert f"not converged: {host}: failed (not attempted: a canary failed ({canary}))" \
            in proc.stderr
    assert (REPORTS / "pyinfra-canary.json").exists()
    assert not list(REPORTS.glob("pyinfra-batch-*.json"))


def test_apply_rolls_out_canary_first_then_the_batch():
    proc = pipeline("apply", "--force", "--limit", "public_pcs", "--batch", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    canary = json.loads((REPORTS / "pyinfra-canary.json").read_text())["results"]
    touched = {h for op in canary["operations"] for h in op["success"] + op["no_change"]}
    assert touched == {PUBLIC_PCS[0]}
    assert len(list(REPORTS.glob("pyinfra-batch-*.json"))) == len(PUBLIC_PCS) - 1


def test_verify_writes_a_report_a_browser_shows_per_branch(tmp_path):
    proc = pipeline("verify")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = sorted(paths.REPORTS.glob("verify-lab-*.html"))[-1]
    assert html.with_suffix(".xml").exists()
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*chromium, "--dump-dom", html.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    for group, members in LAB.branches.items():
        assert f'<section class="branch" id="branch-{group}">' in dom
        assert f"{len(members)} computers" in dom
    assert "ALL GOOD" in dom
    screenshot = html.with_suffix(".png")
    subprocess.run([*chromium, "--window-size=1200,1400", f"--screenshot={screenshot}",
                    html.as_uri()], capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000
