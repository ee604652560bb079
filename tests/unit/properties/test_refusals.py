"""Property-based: mutated inputs are refused cleanly, never with a traceback or a secret.

For every generated input: no exception escapes, every problem names its file and a key, and
no secret value of the input appears in any output. The in-process layers (azure.yml loading
and models, the firewall merge, exposure) run hundreds of examples; the whole-site property,
which runs ansible-inventory (about a second per site), runs few, as do the entry points that
start a process (``make hours`` with any variable value, the hours tool on mutated hours); the
Azure command runs in-process with a hundred.
"""

from __future__ import annotations

import copy
import ipaddress
import shutil
import subprocess
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libraryops import exposure, firewall, hours_table, paths
from libraryops.cloud import cli, spec
from libraryops.validation import run as validation

LAB_SPEC = yaml.safe_load((paths.INVENTORIES / "lab/azure.yml").read_text())
SECRET = "Zq9-Secret-Hunter2"  # pragma: allowlist secret
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Values Azure Resource Manager refuses or treats specially (libraryops.cloud.arm_limits): names
#: ARM reserves or refuses, reserved and outside addresses, tiny subnets, tags, regions.
ARM_VALUES = ["GatewaySubnet", "gatewaysubnet", "rg-library-lab.", "nic-libki", "pip-libki",
              "nsg-mgmt", "vnet-library-lab/GatewaySubnet", "vnet-library-lab/mgmt", "vm_libki",
              "Storage.WestEurope", "Storage.Atlantis", "Internt", "Internet.WestEurope",
              "10.20.0.0", "10.20.0.3", "10.20.0.255", "10.20.0.4", "10.20.1.10", "10.20.3.230",
              "10.20.1.0/29", "10.20.1.0/30", "169.254.0.0/16", "westeurop", "West Europe",
              "chinanorth3", "root", "a<b", "x" * 513, "allow-libki-from-town", "servers"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["", " ", "\t", "０", "*", "Internet", "0.0.0.0/0",
                                           "::/0", "10.0.0.0/8", "2001:0db8::/32", "é"]),
    st.sampled_from(ARM_VALUES))
# SECRET is not among them: a mutation that makes it a VNet's name makes it a name, which a
# message may list (hypothesis found that); it stays only where secrets are held.
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


SPEC_PATHS = [p for p in _paths(LAB_SPEC) if p]


def _put(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _mutated_site(root: Path, edits) -> Path:
    """``root/inventories/town`` holding the lab spec with the VM's password set to SECRET and
    ``edits`` ((path, value) pairs) applied; an edit whose parent an earlier one replaced is
    skipped."""
    data = copy.deepcopy(LAB_SPEC)
    data["resources"]["virtual_machines"][0]["admin_password"] = SECRET
    for path, value in edits:
        try:
            _put(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    site = root / "inventories" / "town"
    site.mkdir(parents=True)
    (site / "azure.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return site


@FAST
@given(edits=st.lists(st.tuples(st.sampled_from(SPEC_PATHS), values), min_size=1, max_size=3))
def test_a_mutated_azure_spec_is_refused_cleanly(tmp_path_factory, edits):
    site = _mutated_site(tmp_path_factory.mktemp("p"), edits)
    for problem in spec.check_site(site):
        assert problem.file == "inventories/town/azure.yml" and problem.key
        assert SECRET not in str(problem)


def _arm_refusals(data: dict) -> list[str]:
    """What ARM would refuse in a spec, checked here independently of libraryops.cloud.spec (the
    oracle): NIC placement and addresses, subnet sizes and names, NIC and public IP sharing,
    tags, region."""
    found = []
    res = data["resources"]
    nets = {f"{v['name']}/{s['name']}": ipaddress.ip_network(s["prefix"])
            for v in res["virtual_networks"] for s in v.get("subnets", [])}
    for vnet in res["virtual_networks"]:
        names = [s["name"].casefold() for s in vnet.get("subnets", [])]
        found += ["duplicate subnet"] * (len(names) - len(set(names)))
        for subnet in vnet.get("subnets", []):
            if not 2 <= ipaddress.ip_network(subnet["prefix"]).prefixlen <= 29:
                found.append("subnet size")
            if subnet["name"] == "GatewaySubnet" and subnet.get("network_security_group"):
                found.append("NSG on GatewaySubnet")
    used = []
    for nic in res["network_interfaces"]:
        net = nets[nic["subnet"]]
        if nic["subnet"].endswith("/GatewaySubnet"):
            found.append("NIC in GatewaySubnet")
        if nic.get("private_ip"):
            address = ipaddress.ip_address(nic["private_ip"])
            usable = net.network_address + 4 <= address < net.broadcast_address
            found += [] if usable else ["reserved or outside"]
            used.append(address)
    found += ["shared address"] * (len(used) - len(set(used)))
    pips = [n["public_ip"] for n in res["network_interfaces"] if n.get("public_ip")]
    found += ["shared public IP"] * (len(pips) - len(set(pips)))
    attached = [n for vm in res["virtual_machines"] for n in vm["network_interfaces"]]
    found += ["shared NIC"] * (len(attached) - len(set(attached)))
    for tags in [data["tags"], *(r.get("tags", {}) for r in data["resource_groups"]),
                 *(i.get("tags", {}) for items in res.values() for i in items)]:
        for name, value in tags.items():
            if len(name) > 512 or len(value) > 256 or set(name) & set("<>%&\\?/"):
                found.append("tag")
    if data["location"].replace(" ", "").lower() not in {"eastus", "westeurope"}:
        found.append("region (this oracle knows two)")
    return found


ARM_EDITS = st.lists(st.tuples(st.sampled_from([p for p in SPEC_PATHS if p[-1] in (
    "name", "subnet", "private_ip", "prefix", "public_ip", "network_security_group",
    "location", "role", "owner")] + [("resources", "virtual_machines", 0, "network_interfaces", 1),
                                     ("resources", "network_interfaces", 1)]),
    st.sampled_from(ARM_VALUES)), min_size=1, max_size=3)


@FAST
@given(edits=ARM_EDITS)
def test_a_spec_that_passes_validation_is_one_arm_accepts(tmp_path_factory, edits):
    """Mutations drawn from what ARM refuses: whenever validation passes, the oracle agrees."""
    data = copy.deepcopy(LAB_SPEC)
    data["resources"]["network_interfaces"].append(
        {"name": "nic-two", "resource_group": "rg-library-lab",
         "subnet": "vnet-library-lab/mgmt", "private_ip": "10.20.1.20"})
    data["resources"]["virtual_machines"][0]["network_interfaces"].append("nic-two")
    for path, value in edits:
        try:
            _put(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    site = tmp_path_factory.mktemp("p") / "inventories" / "town"
    site.mkdir(parents=True)
    (site / "azure.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    problems = spec.check_site(site)
    assert all(p.file == "inventories/town/azure.yml" and p.key for p in problems)
    if not problems:
        assert _arm_refusals(data) == [], edits


@FAST
@given(text=st.text(max_size=200), cut=st.integers(0, 4000))
def test_a_broken_azure_yml_file_never_echoes_its_text(tmp_path_factory, text, cut):
    raw = (paths.INVENTORIES / "lab/azure.yml").read_text()
    broken = raw[:cut] + f"\n  admin_password: '{SECRET}" + text + raw[cut:]
    site = tmp_path_factory.mktemp("p") / "inventories" / "town"
    site.mkdir(parents=True)
    (site / "azure.yml").write_text(broken)
    for problem in spec.check_site(site):
        assert problem.key and SECRET not in str(problem)


networks = st.one_of(
    st.builds(lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
              st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.builds(lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
              st.integers(0, 2**128 - 1), st.integers(0, 128)),
    st.text(max_size=10))


@FAST
@given(declarations=st.lists(st.tuples(
    st.sampled_from(["firewall__rules", "firewall__group_rules", "firewall__host_rules"]),
    st.dictionaries(st.one_of(st.sampled_from(["22/tcp", "53/udp", "0/tcp", "22", "x/tcp"]),
                              st.text(max_size=8)),
                    st.one_of(values, st.fixed_dictionaries(
                        {"sources": st.lists(networks, max_size=4)},
                        optional={"action": st.sampled_from(["accept", "drop", "x"])})),
                    max_size=3)), max_size=3))
def test_the_firewall_merge_never_raises_and_never_lets_the_internet_in(declarations):
    rules, problems = firewall.merge(declarations)
    assert all(p.file and p.key for p in problems)
    for rule in rules:
        if rule.action == "accept" and not problems:
            assert rule.ipv4 + rule.ipv6 and not exposure.too_public(rule.ipv4 + rule.ipv6)


@FAST
@given(prefixlen=st.integers(1, 12), version=st.sampled_from([4, 6]))
def test_the_internet_in_pieces_is_the_internet(prefixlen, version):
    whole = ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
    pieces = [str(n) for n in whole.subnets(new_prefix=prefixlen)]
    assert exposure.too_public(pieces) == exposure.too_public([str(whole)]) != []


SITE_VALUE_FILES = ["group_vars/all/sshd.yml", "group_vars/all/firewall.yml",
                    "group_vars/all/timesync.yml", "group_vars/all/wireless.yml"]


@SLOW
@given(file=st.sampled_from(SITE_VALUE_FILES), value=values)
def test_a_site_with_a_mutated_value_exits_0_or_1_and_names_file_and_key(
        tmp_path_factory, capsys, file, value):
    site = tmp_path_factory.mktemp("s") / "example"
    shutil.copytree(paths.INVENTORIES / "example", site)
    path = site / file
    data = yaml.safe_load(path.read_text())
    key = sorted(data)[0]
    data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    code = validation.main([str(site)])
    lines = capsys.readouterr().out.splitlines()
    assert code in (0, 1)
    for line in lines[:-1]:
        assert line.startswith(str(Path(site))) and line.count(": ") >= 2, line
    assert SECRET not in "\n".join(lines) or value == SECRET


# --- entry points: the Azure command, the hours tool, make's variables ------------------------

@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(SPEC_PATHS), values), min_size=1, max_size=3))
def test_the_azure_command_on_a_mutated_spec_exits_cleanly(tmp_path_factory, capsys, edits):
    """``make azure-plan`` in-process: refused (1) by validation, or by the missing stand-in
    (no stand-in runs in the empty directory given) — never a traceback or the secret."""
    root = tmp_path_factory.mktemp("a")
    site = _mutated_site(root, edits)
    code = cli.main(["plan", "--inventory", str(site), "--standin-dir", str(root / "no-standin"),
                     "--report-dir", str(root / "reports")])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "Traceback" not in captured.err and SECRET not in captured.out + captured.err


HOURS_FILE = "group_vars/branch_main/hours.yml"


@SLOW
@given(value=values, key=st.sampled_from(["branch__hours", "branch__closures"]))
def test_the_hours_tool_on_mutated_hours_exits_0_or_1(tmp_path_factory, capsys, value, key):
    """``make hours`` on a site whose hours or closures are any value: a table or a named
    refusal, never a traceback."""
    site = tmp_path_factory.mktemp("h") / "example"
    shutil.copytree(paths.INVENTORIES / "example", site)
    data = yaml.safe_load((site / HOURS_FILE).read_text())
    data[key] = value
    (site / HOURS_FILE).write_text(yaml.safe_dump(data, allow_unicode=True))
    code = hours_table.main(["table", "--site-dir", str(site)])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert "Traceback" not in captured.err


make_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)


@SLOW
@given(variable=st.sampled_from(["SITE", "LIMIT", "NOW", "TAGS", "N"]), value=make_text)
def test_make_with_any_variable_value_refuses_it_or_runs_without_a_traceback(variable, value):
    """``make hours`` (contacts no host) with any text in a user variable: make's own check
    refuses it (2), or the tool runs and refuses or answers (0 or 1) — never a traceback."""
    proc = subprocess.run(["make", "-s", "hours", f"{variable}={value}"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1, 2), output
    assert "Traceback" not in output
