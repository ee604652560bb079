"""Plan, apply and drift with the real SDK clients against the local ARM stand-in.

Each test starts its own stand-in on a free loopback port with a fresh state directory and
works on a copy of the lab spec (inventories/lab/azure.yml) in a temporary site directory.
"""

from __future__ import annotations

import copy
import io
import json
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from libraryops.cloud import cli, engine, spec, standin
from libraryops.cloud.clients import LAB_TOKEN, Endpoint, make_clients

REPO = Path(__file__).resolve().parents[2]
LAB_SPEC = yaml.safe_load((REPO / "inventories/lab/azure.yml").read_text())
RG = "rg-library-lab"


class Lab:
    """A stand-in plus a site directory holding an editable copy of the lab spec."""

    def __init__(self, tmp: Path):
        self.state = tmp / "arm"
        self.url, self.ca, self.pid = standin.start(self.state)
        self.site = tmp / "inventories" / "town"
        self.site.mkdir(parents=True)
        self.reports = tmp / "reports"
        self.spec = copy.deepcopy(LAB_SPEC)
        self.write()
        self.sdk = make_clients("lab", self.spec["subscription_id"], Endpoint(self.url, self.ca))

    def write(self) -> None:
        (self.site / "azure.yml").write_text(yaml.safe_dump(self.spec))

    def argv(self, command: str) -> list[str]:
        return [command, "--inventory", str(self.site), "--standin-dir", str(self.state),
                "--report-dir", str(self.reports)]

    def run(self, command: str) -> tuple[int, str]:
        out = io.StringIO()
        code = cli.main(self.argv(command), out=out)
        text = out.getvalue()
        assert LAB_TOKEN not in text
        return code, text

    def hook(self, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/_standin/{path}", method="POST" if body else "GET",
            data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json"})
        context = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(request, context=context) as response:
            return json.load(response)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLOW_DELETE", raising=False)
    lab = Lab(tmp_path)
    yield lab
    standin.stop(lab.state, clear=True)


@pytest.fixture
def applied(lab):
    assert lab.run("apply")[0] == 0
    return lab


def _line(text: str, resource: str) -> str:
    return next(line for line in text.splitlines() if line.rstrip().endswith(resource)
                or f" {resource}  (" in line)


def test_plan_on_an_empty_subscription_lists_every_resource_as_create(lab):
    code, text = lab.run("plan")
    assert code == 2
    plan = json.loads((lab.reports / "azure-plan.json").read_text())
    assert plan["summary"] == {"create": 7}
    assert [i["resource"] for i in plan["items"]] == [
        RG, f"{RG}/nsg-servers", f"{RG}/nsg-mgmt", f"{RG}/vnet-library-lab", f"{RG}/pip-libki",
        f"{RG}/nic-libki", f"{RG}/vm-libki"]
    assert "Plan: 7 to create, 0 to update, 0 to delete, 0 unchanged." in text


def test_apply_creates_everything_and_a_plan_in_another_process_shows_no_changes(applied):
    vnet = applied.sdk.network.virtual_networks.get(RG, "vnet-library-lab")
    assert [s.name for s in vnet.properties.subnets] == ["servers", "mgmt", "GatewaySubnet"]
    plan = subprocess.run([sys.executable, str(REPO / "azure/plan.py"), *applied.argv("plan")[1:]],
                          capture_output=True, text=True, check=False, cwd=REPO)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "0 to create, 0 to update, 0 to delete, 7 unchanged" in plan.stdout


def test_a_tag_added_out_of_band_survives_an_apply(applied):
    vm = applied.sdk.compute.virtual_machines.get(RG, "vm-libki")
    body = vm.as_dict(exclude_readonly=True)
    body["tags"]["billing-contact"] = "town-finance"
    applied.sdk.compute.virtual_machines.begin_create_or_update(RG, "vm-libki", body).result()
    applied.spec["resources"]["virtual_machines"][0]["size"] = "Standard_B2ms"
    applied.write()

    code, text = applied.run("plan")
    assert code == 2
    assert "hardwareProfile.vmSize: Standard_B2s → Standard_B2ms" in text
    assert "billing-contact" not in text
    assert applied.run("apply")[0] == 0
    vm = applied.sdk.compute.virtual_machines.get(RG, "vm-libki")
    assert vm.tags["billing-contact"] == "town-finance"
    assert vm.properties.hardware_profile.vm_size == "Standard_B2ms"


def test_a_vnet_dns_change_keeps_all_subnets(applied):
    vnet = applied.sdk.network.virtual_networks.get(RG, "vnet-library-lab")
    body = vnet.as_dict(exclude_readonly=True)
    body["properties"]["subnets"].append(
        {"name": "town-it-probe", "properties": {"addressPrefix": "10.20.2.0/28"}})
    applied.sdk.network.virtual_networks.begin_create_or_update(
        RG, "vnet-library-lab", body).result()
    applied.spec["resources"]["virtual_networks"][0]["dns_servers"] = ["10.0.0.53"]
    applied.write()

    code, text = applied.run("plan")
    assert code == 2
    assert "dhcpOptions.dnsServers: (none) → [10.0.0.53]" in text
    assert applied.run("apply")[0] == 0
    vnet = applied.sdk.network.virtual_networks.get(RG, "vnet-library-lab")
    assert vnet.properties.dhcp_options.dns_servers == ["10.0.0.53"]
    assert [s.name for s in vnet.properties.subnets] == [
        "servers", "mgmt", "GatewaySubnet", "town-it-probe"]
    assert applied.run("plan")[0] == 0


def test_a_rule_changed_out_of_band_shows_in_drift_and_apply_restores_it(applied):
    nsg = applied.sdk.network.network_security_groups.get(RG, "nsg-servers")
    body = nsg.as_dict(exclude_readonly=True)
    rules = body["properties"]["securityRules"]
    rules[1]["properties"]["sourceAddressPrefix"] = "0.0.0.0/0"
    rules.append({"name": "portal-quick-fix", "properties": {
        "priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
        "destinationPortRange": "3389"}})
    applied.sdk.network.network_security_groups.begin_create_or_update(
        RG, "nsg-servers", body).result()

    code, text = applied.run("drift")
    assert code == 2
    assert "~ differs" in _line(text, f"{RG}/nsg-servers")
    assert "securityRules[allow-ssh-from-mgmt].sourceAddressPrefix: 0.0.0.0/0 → 10.20.1.0/24" \
        in text
    assert "securityRules[portal-quick-fix]: {priority=300" in text
    assert "Drift: 1 difference(s)" in text

    assert applied.run("apply")[0] == 0
    assert applied.run("drift")[0] == 0
    rules = applied.sdk.network.network_security_groups.get(RG, "nsg-servers") \
        .properties.security_rules
    assert [r.name for r in rules] == [
        "allow-libki-from-town", "allow-ssh-from-mgmt", "deny-internet-inbound"]


def test_a_resource_removed_from_the_spec_is_deleted_only_with_allow_delete(applied, monkeypatch):
    applied.sdk.network.public_ip_addresses.begin_create_or_update(
        RG, "pip-town-it", {"location": "eastus", "sku": {"name": "Standard"},
                            "properties": {"publicIPAllocationMethod": "Static"}}).result()
    _drop_public_ip_from_spec(applied)

    code, text = applied.run("plan")
    assert code == 2
    assert "- would delete" in _line(text, f"{RG}/vm-libki")
    assert "(only with ALLOW_DELETE=1)" in _line(text, f"{RG}/pip-libki")
    assert "pip-town-it" not in text  # not ours: never a delete candidate
    assert applied.run("apply")[0] == 0
    applied.sdk.compute.virtual_machines.get(RG, "vm-libki")  # still there

    code, text = applied.run("drift")
    assert "- no longer in the spec" in _line(text, f"{RG}/vm-libki")
    assert "? unmanaged" in _line(text, f"{RG}/pip-town-it")

    monkeypatch.setenv("ALLOW_DELETE", "1")
    code, text = applied.run("plan")
    assert code == 2 and "- delete" in _line(text, f"{RG}/vm-libki")
    code, text = applied.run("apply")
    assert code == 0, text
    deleted = [line.split()[-1] for line in text.splitlines() if "- deleted" in line]
    assert deleted == [f"{RG}/vm-libki", f"{RG}/pip-libki"]  # reverse dependency order
    assert applied.run("plan")[0] == 0
    listed = {r.name for r in applied.sdk.resources.resources.list_by_resource_group(RG)}
    assert "pip-town-it" in listed and "vm-libki" not in listed


def _drop_public_ip_from_spec(lab) -> None:
    """The spec without the VM and its public IP: both become delete candidates."""
    del lab.spec["resources"]["virtual_machines"]
    lab.spec["resources"]["network_interfaces"][0].pop("public_ip")
    del lab.spec["resources"]["public_ips"]
    lab.write()


def _town_it_claims_the_public_ip(sdk) -> None:
    """Town IT takes the public IP over in the portal: libraryops' management tag removed."""
    pip = sdk.network.public_ip_addresses.get(RG, "pip-libki")
    body = pip.as_dict(exclude_readonly=True)
    body["tags"] = {"owner": "town-it"}
    sdk.network.public_ip_addresses.begin_create_or_update(RG, "pip-libki", body).result()


def test_a_delete_candidate_claimed_while_apply_waits_on_a_409_is_kept(applied):
    """Before: the delete was retried as first decided and removed Town IT's public IP."""
    _drop_public_ip_from_spec(applied)
    applied.hook("faults", {"status": 409, "count": 1, "method": "DELETE", "after": 1})
    out = io.StringIO()
    done = engine.apply(applied.sdk, spec.load(applied.site), "town", True, out, delays=(0,),
                        sleep=lambda _: _town_it_claims_the_public_ip(applied.sdk))
    deleted = [i.title for i in done if i.action == "delete"]
    assert deleted == [f"{RG}/vm-libki"], out.getvalue()
    assert f"{RG}/pip-libki: changed since it was listed" in out.getvalue()
    assert applied.sdk.network.public_ip_addresses.get(RG, "pip-libki").tags == {
        "owner": "town-it"}


def test_a_delete_candidate_changed_after_its_read_is_deleted_only_after_a_new_read(
        applied, monkeypatch):
    """The DELETE carries the etag of the read that judged it: a write in between gives 412,
    and the candidate is judged again before it goes."""
    _drop_public_ip_from_spec(applied)
    operations = applied.sdk.network.public_ip_addresses
    reads = []

    def get_then_town_it_tags(*args, **kwargs):
        model = type(operations).get(operations, *args, **kwargs)
        reads.append(model.etag)
        if len(reads) == 1:
            body = model.as_dict(exclude_readonly=True)
            body["tags"]["reviewed-by"] = "town-it"
            type(operations).begin_create_or_update(operations, RG, "pip-libki", body).result()
        return model

    monkeypatch.setattr(operations, "get", get_then_town_it_tags)
    out = io.StringIO()
    done = engine.apply(applied.sdk, spec.load(applied.site), "town", True, out, delays=(0,),
                        sleep=lambda _: None)
    assert "412 PreconditionFailed" in out.getvalue() and len(reads) == 2
    assert reads[0] != reads[1]
    assert [i.title for i in done if i.action == "delete"] == [f"{RG}/vm-libki", f"{RG}/pip-libki"]


def test_a_429_and_a_409_during_apply_are_retried_and_the_run_succeeds(lab):
    lab.hook("faults", {"status": 429, "count": 1, "method": "PUT", "after": 1})
    lab.hook("faults", {"status": 409, "count": 1, "method": "PUT", "after": 3})
    code, text = lab.run("apply")
    assert code == 0, text
    assert "409 AnotherOperationInProgress: another operation is running; reading it again" \
        in text
    assert lab.hook("stats")["requests"]["PUT"] == 7 + 2
    assert lab.run("plan")[0] == 0


def _town_it_adds_a_subnet_and_a_tag(sdk) -> None:
    """What Town IT does in the portal: a subnet and a tag on the library's VNet."""
    vnet = sdk.network.virtual_networks.get(RG, "vnet-library-lab")
    body = vnet.as_dict(exclude_readonly=True)
    body["properties"]["subnets"].append(
        {"name": "town-it-vpn", "properties": {"addressPrefix": "10.20.2.0/28"}})
    body["tags"]["town-it"] = "vpn"
    sdk.network.virtual_networks.begin_create_or_update(RG, "vnet-library-lab", body).result()


def _assert_town_its_change_kept_and_ours_applied(lab) -> None:
    vnet = lab.sdk.network.virtual_networks.get(RG, "vnet-library-lab")
    assert "town-it-vpn" in [s.name for s in vnet.properties.subnets]
    assert vnet.tags["town-it"] == "vpn"
    assert vnet.properties.dhcp_options.dns_servers == ["10.0.0.53"]


def test_a_change_made_while_apply_waits_on_a_409_is_kept(applied):
    applied.spec["resources"]["virtual_networks"][0]["dns_servers"] = ["10.0.0.53"]
    applied.write()
    applied.hook("faults", {"status": 409, "count": 1, "method": "PUT"})
    out = io.StringIO()
    done = engine.apply(applied.sdk, spec.load(applied.site), "town", False, out, delays=(0,),
                        sleep=lambda _: _town_it_adds_a_subnet_and_a_tag(applied.sdk))
    assert [i.action for i in done if i.action != "no-change"] == ["update"], out.getvalue()
    assert "409 AnotherOperationInProgress" in out.getvalue()
    _assert_town_its_change_kept_and_ours_applied(applied)


def test_a_change_made_between_apply_reading_and_writing_is_re_read_on_412(applied, monkeypatch):
    applied.spec["resources"]["virtual_networks"][0]["dns_servers"] = ["10.0.0.53"]
    applied.write()
    operations = applied.sdk.network.virtual_networks
    reads = []

    def get_then_town_it_writes(*args, **kwargs):
        model = type(operations).get(operations, *args, **kwargs)
        reads.append(model.etag)
        if len(reads) == 1:
            _town_it_adds_a_subnet_and_a_tag(applied.sdk)
        return model

    monkeypatch.setattr(operations, "get", get_then_town_it_writes)
    out = io.StringIO()
    engine.apply(applied.sdk, spec.load(applied.site), "town", False, out, delays=(0,),
                 sleep=lambda _: None)
    assert "412" in out.getvalue() and len(reads) >= 2
    monkeypatch.undo()
    _assert_town_its_change_kept_and_ours_applied(applied)


def test_the_standin_answers_412_to_a_stale_or_unexpected_etag(applied):
    from azure.core.exceptions import HttpResponseError

    operations = applied.sdk.network.virtual_networks
    body = operations.get(RG, "vnet-library-lab").as_dict(exclude_readonly=True)
    stale = operations.get(RG, "vnet-library-lab").etag
    operations.begin_create_or_update(RG, "vnet-library-lab", body,
                                      headers={"If-Match": stale}).result()
    for headers in ({"If-Match": stale}, {"If-None-Match": "*"}):
        with pytest.raises(HttpResponseError) as caught:
            operations.begin_create_or_update(RG, "vnet-library-lab", body,
                                              headers=headers).result()
        assert caught.value.status_code == 412
        assert caught.value.error.code == "PreconditionFailed"
    with pytest.raises(HttpResponseError) as caught:
        operations.begin_create_or_update(RG, "vnet-new", body, headers={"If-Match": stale})
    assert caught.value.status_code == 412


def test_an_apply_killed_between_resources_converges_when_rerun(lab):
    lab.hook("faults", {"status": 409, "count": 1, "method": "PUT", "after": 3})
    proc = subprocess.Popen([sys.executable, str(REPO / "azure/apply.py"),
                             *lab.argv("apply")[1:]],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    for line in proc.stdout:
        if "reading it again" in line:  # three resources created, the fourth waiting on a 409
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    proc.stdout.close()
    code, text = lab.run("apply")
    assert code == 0, text
    assert "Apply complete: 4 created, 0 updated, 0 deleted, 3 unchanged." in text
    assert lab.run("plan")[0] == 0


def test_write_only_custom_data_is_sent_at_creation_only(lab):
    lab.spec["resources"]["virtual_machines"][0]["custom_data"] = "#cloud-config\n"
    lab.write()
    assert lab.run("apply")[0] == 0
    lab.spec["resources"]["virtual_machines"][0]["custom_data"] = "#cloud-config\npackages: []\n"
    lab.spec["resources"]["virtual_machines"][0]["size"] = "Standard_B1s"
    lab.write()
    code, text = lab.run("apply")  # the stand-in refuses customData on an update, as ARM does
    assert code == 0, text
    assert "customData" not in text
    assert lab.run("plan")[0] == 0


def test_a_changed_ssh_key_is_a_create_only_note_not_a_change(applied):
    vm = applied.spec["resources"]["virtual_machines"][0]
    vm["ssh_public_key"] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWKEYNEWKEYNEWKEYNEWKEY new"
    applied.write()
    code, text = applied.run("plan")
    assert code == 0
    assert "(create-only: not changed on an existing resource)" in text


def test_example_site_is_refused(capsys):
    assert cli.main(["plan", "--site", "example"]) == 1
    assert "documentation" in capsys.readouterr().err
