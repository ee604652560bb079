"""The Azure spec of a site (``inventories/<site>/azure.yml``): models and validation.

The spec declares one subscription and location, the tags every resource must carry, the
resource groups, and the resources (virtual networks with subnets, network security groups with
their rules, Standard public IPs, NICs, Linux VMs). :func:`check_site` reports every problem as
``inventories/<site>/azure.yml: <dotted key>: <problem> (allowed: ...)``, catching what Town IT
would otherwise catch by eye in review. Names refer to other resources of the spec by name
(a NIC's ``subnet`` is ``<vnet>/<subnet>``).

Sources for the limits:
- NSG rule priorities 100-4096, unique per direction:
  learn.microsoft.com/azure/virtual-network/network-security-groups-overview
- ``GatewaySubnet`` (fixed name) /27 or larger:
  learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#gwsub
- Basic public IPs were retired on 30 Sep 2025 (Standard only):
  learn.microsoft.com/azure/virtual-network/ip-services/public-ip-basic-upgrade-guidance
- The network's cross-field checks (address spaces, subnets, NSG rules, NICs):
  :mod:`libraryops.cloud.spec_network`.
- What else Azure Resource Manager refuses (names, subnet sizes and reserved addresses, tags,
  regions, service tags, VM profile limits): :mod:`libraryops.cloud.arm_limits`, with sources.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from azure.core import AzureClouds
from azure.mgmt.core.tools import get_arm_endpoints
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from libraryops.cloud import arm_limits, spec_network
from libraryops.problem import Problem, parse_problem

FILE_NAME = "azure.yml"
#: Every resource carries these two tags; deletes only ever touch resources carrying both.
MANAGED_BY = ("managed-by", "libraryops")
SITE_TAG = "libraryops-site"
#: Tags the spec must set for every resource (domain.md section 4: tag everything).
REQUIRED_TAGS = ("owner", "cost-center", "env")
PRIORITY_RANGE = (100, 4096)
ARM_ENDPOINT = "https://management.azure.com"
#: ``endpoint: standin`` means the local ARM stand-in (lab only; see libraryops.cloud.standin).
STANDIN = "standin"
#: Azure's Resource Manager endpoints (public, US Government, China), from the SDK's own table
#: (``azure.mgmt.core.tools.get_arm_endpoints``): the only hosts the ARM bearer token may go to.
ARM_ENDPOINTS = {
    cloud: get_arm_endpoints(cloud)["resource_manager"].rstrip("/") for cloud in AzureClouds}
_SSH_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$")
_PORT = re.compile(r"^(\*|\d{1,5}(-\d{1,5})?)$")


def _named(kind: str) -> Any:
    """The type of a name ARM gives ``kind`` (:data:`arm_limits.NAME_RULES`), for the resource's
    own name and for every reference to one."""
    def check(value: str) -> str:
        problem = arm_limits.name_problem(kind, value)
        if problem:
            raise ValueError(problem)
        return value
    return Annotated[str, AfterValidator(check)]


def _prefix(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError("not an IPv4 prefix (allowed: e.g. 10.20.0.0/24)") from None
    if str(network) != value:
        raise ValueError(f"{value} has host bits set (allowed: {network})")
    return value


def _ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError("not an IPv4 address (allowed: e.g. 10.20.0.10)") from None
    return value


def _addresses(value: str | list[str]) -> list[str]:
    """An NSG rule's source or destination: '*', or a service tag, alone; or IPv4 addresses and
    prefixes (an augmented rule takes several of those, never several tags: arm_limits, NSG)."""
    items = [value] if isinstance(value, str) else value
    if not items:
        raise ValueError("no address (allowed: '*', a service tag, or IPv4 addresses and "
                         "prefixes)")
    words = 0
    for item in items:
        if "/" in item:
            _prefix(item)
        elif item == "*" or arm_limits.is_service_tag(item):
            words += 1
        else:
            try:
                ipaddress.IPv4Address(item)
            except ValueError:
                raise ValueError(
                    "not '*', an IPv4 address or prefix, or a service tag of "
                    f"libraryops/data/azure_service_tags.json{arm_limits.service_tag_hint(item)} "
                    "(allowed: e.g. 10.20.0.0/24, Internet, VirtualNetwork, Storage.WestEurope; "
                    "`make azure-lists` refreshes the list)") from None
    if words and len(items) > 1:
        raise ValueError("'*' or a service tag together with other entries (allowed: '*' or "
                         "one service tag alone, or a list of IPv4 addresses and prefixes)")
    return items


def _admin_user(value: str) -> str:
    if value in arm_limits.DISALLOWED_ADMIN_USERS:
        raise ValueError("a user name Azure refuses for the admin account (allowed: any other "
                         "than admin, root, administrator, user, test, guest, ...; see "
                         "arm_limits.DISALLOWED_ADMIN_USERS)")
    return value


def _description(value: str) -> str:
    if len(value) > arm_limits.RULE_DESCRIPTION_MAX:
        raise ValueError(f"{len(value)} characters (allowed: at most "
                         f"{arm_limits.RULE_DESCRIPTION_MAX})")
    return value


def _custom_data(value: str) -> str:
    size = len(value.encode("utf-8"))
    if size > arm_limits.CUSTOM_DATA_MAX_BYTES:
        raise ValueError(f"{size} bytes (allowed: at most {arm_limits.CUSTOM_DATA_MAX_BYTES} "
                         "bytes of cloud-init)")
    return value


def _endpoint(value: str) -> str:
    if value != STANDIN and value.rstrip("/") not in ARM_ENDPOINTS.values():
        raise ValueError("not one of Azure's management endpoints: the ARM token would be sent "
                         f"there (allowed: {', '.join(sorted(ARM_ENDPOINTS.values()))}, or "
                         f"{STANDIN} for the lab's stand-in on loopback)")
    return value


def _ports(value: str | int | list[str | int]) -> list[str]:
    items = [str(v) for v in (value if isinstance(value, list) else [value])]
    for item in items:
        low, _, high = item.partition("-")
        if not _PORT.match(item) or (item != "*" and not int(low) <= int(high or low) <= 65535):
            raise ValueError("not a port or range (allowed: '*', 443, '8000-8080')")
    return items


def _priority(value: int) -> int:
    low, high = PRIORITY_RANGE
    if not low <= value <= high:
        raise ValueError(f"priority {value} is outside the NSG rule range (allowed: {low}-{high})")
    return value


GroupName = _named("resource group")
VnetName = _named("virtual network")
SubnetName = _named("subnet")
NsgName = _named("network security group")
RuleName = _named("NSG rule")
PublicIpName = _named("public IP")
NicName = _named("NIC")
VmName = _named("virtual machine")
Ipv4 = Annotated[str, AfterValidator(_ipv4)]
Prefix = Annotated[str, AfterValidator(_prefix)]
Addresses = Annotated[str | list[str], AfterValidator(_addresses)]
Ports = Annotated[str | int | list[str | int], AfterValidator(_ports)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Resource(_Model):
    resource_group: GroupName
    tags: dict[str, str] = {}


class Rule(_Model):
    """One NSG security rule (``properties.securityRules[]`` in ARM)."""

    name: RuleName
    priority: Annotated[int, AfterValidator(_priority)]
    direction: Literal["Inbound", "Outbound"]
    access: Literal["Allow", "Deny"]
    protocol: Literal["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"]
    source: Addresses
    source_ports: Ports = "*"
    destination: Addresses = "*"
    destination_ports: Ports
    description: Annotated[str, AfterValidator(_description)] | None = None
    allow_internet_admin: bool = False
    reason: str | None = None


class NetworkSecurityGroup(_Resource):
    """A network security group; its rules are owned whole (rules added elsewhere are drift)."""

    name: NsgName
    rules: list[Rule] = []


class Subnet(_Model):
    """A subnet of a virtual network, optionally attached to an NSG of the spec (by name)."""

    name: SubnetName
    prefix: Prefix
    network_security_group: NsgName | None = None


class VirtualNetwork(_Resource):
    """A virtual network: address space, DNS servers (empty = Azure's) and subnets."""

    name: VnetName
    address_space: list[Prefix] = Field(min_length=1)
    dns_servers: list[Ipv4] = []
    subnets: list[Subnet] = []


class PublicIp(_Resource):
    """A Standard, static public IP (Basic public IPs were retired on 30 Sep 2025)."""

    name: PublicIpName
    sku: Literal["Standard"] = "Standard"


class NetworkInterface(_Resource):
    """A NIC in ``subnet`` (``<vnet>/<subnet>``), with an optional public IP and NSG."""

    name: NicName
    subnet: str
    public_ip: PublicIpName | None = None
    network_security_group: NsgName | None = None
    private_ip: Ipv4 | None = None


class Image(_Model):
    """A marketplace image reference."""

    publisher: str
    offer: str
    sku: str
    version: str = "latest"


class VirtualMachine(_Resource):
    """A Linux VM: SSH key login only; ``custom_data`` (cloud-init) is applied at creation only."""

    name: VmName
    size: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$")
    image: Image
    admin_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$"),
                          AfterValidator(_admin_user)]
    ssh_public_key: str | None = None
    admin_password: str | None = Field(default=None, repr=False)
    os_disk_type: Literal["Standard_LRS", "StandardSSD_LRS", "Premium_LRS"] = "StandardSSD_LRS"
    network_interfaces: list[NicName] = Field(min_length=1)
    custom_data: Annotated[str, AfterValidator(_custom_data)] | None = Field(
        default=None, repr=False)


class ResourceGroup(_Model):
    """A resource group (in the spec's location)."""

    name: GroupName
    tags: dict[str, str] = {}


class Resources(_Model):
    """The declared resources, by kind."""

    virtual_networks: list[VirtualNetwork] = []
    network_security_groups: list[NetworkSecurityGroup] = []
    public_ips: list[PublicIp] = []
    network_interfaces: list[NetworkInterface] = []
    virtual_machines: list[VirtualMachine] = []


class AzureSpec(_Model):
    """The whole ``azure.yml``.

    Attributes:
        subscription_id: the subscription (a GUID).
        endpoint: ARM's URL, one of :data:`ARM_ENDPOINTS` (default
            ``https://management.azure.com``), or ``standin``.
        location: the region of every resource ("eastus"; "East US" is the same), one of the
            endpoint's cloud in ``libraryops/data/azure_regions.json``.
        tags: tags for every resource; must include :data:`REQUIRED_TAGS`.
        resource_groups: the groups the site owns.
        resources: the resources, by kind.
    """

    subscription_id: str = Field(pattern=r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
    endpoint: Annotated[str, AfterValidator(_endpoint)] = ARM_ENDPOINT
    location: str
    tags: dict[str, str]
    resource_groups: list[ResourceGroup] = Field(min_length=1)
    resources: Resources = Resources()


class SpecError(ValueError):
    """The spec is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def spec_path(site_dir: Path) -> Path:
    """``<site_dir>/azure.yml``."""
    return Path(site_dir) / FILE_NAME


def display_name(site_dir: Path) -> str:
    """How problems name the file: ``inventories/<site>/azure.yml``."""
    return f"inventories/{Path(site_dir).name}/{FILE_NAME}"


def check_site(site_dir: Path) -> list[Problem]:
    """Validate a site's ``azure.yml``; [] when it is valid or when the site has none.

    This is the entry point for ``make validate`` (:mod:`libraryops.validation.cloud`).
    """
    if not spec_path(site_dir).is_file():
        return []
    try:
        load(site_dir)
    except SpecError as exc:
        return exc.problems
    return []


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing a key given twice in one mapping (PyYAML keeps the last:
    a second ``size:`` would silently win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """The mapping of ``node``; raises on a duplicate key, marked at the second one."""
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key (the file gives it twice in one mapping)",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read(path: Path, file: str) -> Any:
    """The YAML document of ``path``, refusing what PyYAML would silently accept or echo.

    Args:
        path: the file to read.
        file: its name as problems print it.

    Raises:
        SpecError: unreadable, not UTF-8, a YAML syntax error or a duplicate key, at its line
            and column; the message never quotes the file (it may hold a password).
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SpecError([Problem(file, "file", f"cannot read ({exc.strerror})")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(file, "file", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}"
                                               f" at offset {exc.start})")]) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SpecError([parse_problem(file, exc)]) from None


def load(site_dir: Path) -> AzureSpec:
    """Read and validate ``<site_dir>/azure.yml`` (:func:`read`, then the models).

    Raises:
        SpecError: unreadable YAML, a field problem, or a cross-field problem.
    """
    file = display_name(site_dir)
    data = read(spec_path(site_dir), file)
    try:
        spec = AzureSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([Problem(file, _key(err["loc"]), _message(err))
                         for err in exc.errors()]) from None
    problems = [Problem(file, key, message) for key, message in semantic_problems(spec)]
    if problems:
        raise SpecError(problems)
    return spec


def _key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif not part.startswith(("str", "list[", "function-after")):  # union-branch labels
            key += f".{part}" if key else part
    return key or "(top level)"


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (allowed: the keys documented in libraryops/cloud/spec.py)"
    if err["type"] == "missing":
        return "required key is missing"
    return err["msg"].removeprefix("Value error, ")


_PASSWORD = ("a password instead of an SSH key (allowed: ssh_public_key only; "
             "password login is disabled on every VM)")


def semantic_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    """Cross-field problems of a parsed spec, as (dotted key, message) pairs."""
    problems: list[tuple[str, str]] = []
    problems += _location_problems(spec)
    problems += _tag_problems(spec)
    problems += _name_problems(spec)
    problems += spec_network.address_problems(spec.resources.virtual_networks)
    problems += spec_network.subnet_problems(spec.resources.virtual_networks)
    for i, nsg in enumerate(spec.resources.network_security_groups):
        problems += spec_network.rule_problems(f"resources.network_security_groups[{i}]",
                                               nsg.rules)
    problems += _reference_problems(spec)
    problems += spec_network.nic_problems(spec)
    problems += spec_network.vm_nic_problems(spec)
    for i, vm in enumerate(spec.resources.virtual_machines):
        key = f"resources.virtual_machines[{i}]"
        if vm.admin_password is not None:
            problems.append((f"{key}.admin_password", _PASSWORD))
        if vm.ssh_public_key is None:
            problems.append((f"{key}.ssh_public_key", "required key is missing "
                             "(allowed: one SSH public key line, e.g. 'ssh-ed25519 AAAA...')"))
        elif not _SSH_KEY.match(vm.ssh_public_key.strip()):
            problems.append((f"{key}.ssh_public_key", "not an SSH public key line (allowed: "
                             "'ssh-ed25519 AAAA...', 'ssh-rsa ...', 'ecdsa-sha2-nistp256 ...')"))
    return problems


def _tag_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    problems = [(f"tags.{tag}", f"required tag is missing (allowed: a non-empty value; every "
                 f"resource carries {', '.join(REQUIRED_TAGS)})")
                for tag in REQUIRED_TAGS if not spec.tags.get(tag)]
    reserved = (MANAGED_BY[0], SITE_TAG)
    for key, tags in [("tags", spec.tags), *_resource_tags(spec)]:
        problems += [(f"{key}.{tag}", f"set by libraryops itself (allowed: any tag except "
                      f"{', '.join(reserved)})") for tag in tags if tag in reserved]
    # ARM's limits: each tag where it is written; the count on what each resource receives (the
    # spec-wide tags, its own, and libraryops' two: libraryops.cloud.resources.declared).
    for key, tags in [("tags", spec.tags), *_resource_tags(spec)]:
        problems += [(f"{key}.{_short(tag)}", problem)
                     for tag, problem in arm_limits.tag_problems(tags)]
    for key, tags in _resource_tags(spec):
        problem = arm_limits.tag_count_problem(
            {**spec.tags, **tags, MANAGED_BY[0]: MANAGED_BY[1], SITE_TAG: ""})
        if problem:
            problems.append((key, problem))
    return problems


def _short(text: str, limit: int = 40) -> str:
    """A tag name as a key: at most ``limit`` characters, then "..." (a name may be 500 long)."""
    return text if len(text) <= limit else text[:limit] + "..."


def _location_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    endpoint = spec.endpoint.rstrip("/")
    cloud = next((c.name for c, url in ARM_ENDPOINTS.items() if url == endpoint),
                 "AZURE_PUBLIC_CLOUD")  # the stand-in answers as the public cloud
    problem = arm_limits.location_problem(spec.location, cloud)
    return [("location", problem)] if problem else []


def _resource_tags(spec: AzureSpec) -> list[tuple[str, dict[str, str]]]:
    found = [(f"resource_groups[{i}].tags", rg.tags) for i, rg in enumerate(spec.resource_groups)]
    for kind, items in spec.resources:
        found += [(f"resources.{kind}[{i}].tags", item.tags) for i, item in enumerate(items)]
    return found


def _name_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    problems = []
    groups = [("resource_groups", spec.resource_groups),
              *((f"resources.{kind}", items) for kind, items in spec.resources)]
    for key, items in groups:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            first = seen.setdefault(item.name.lower(), i)
            if first != i:
                problems.append((f"{key}[{i}].name", f"{item.name!r} is already declared at "
                                 f"{key}[{first}] (allowed: names unique per kind)"))
    return problems


def _reference_problems(spec: AzureSpec) -> list[tuple[str, str]]:
    res = spec.resources
    groups = {rg.name for rg in spec.resource_groups}
    nsgs = {n.name for n in res.network_security_groups}
    subnets = {f"{v.name}/{s.name}" for v in res.virtual_networks for s in v.subnets}
    refs: list[tuple[str, str | None, set[str], str]] = []
    for kind, items in res:
        refs += [(f"resources.{kind}[{i}].resource_group", item.resource_group, groups,
                  "resource_groups") for i, item in enumerate(items)]
    for i, vnet in enumerate(res.virtual_networks):
        refs += [(f"resources.virtual_networks[{i}].subnets[{k}].network_security_group",
                  s.network_security_group, nsgs, "network_security_groups")
                 for k, s in enumerate(vnet.subnets)]
    for i, nic in enumerate(res.network_interfaces):
        key = f"resources.network_interfaces[{i}]"
        refs += [(f"{key}.subnet", nic.subnet, subnets, "virtual_networks[].subnets (vnet/subnet)"),
                 (f"{key}.public_ip", nic.public_ip, {p.name for p in res.public_ips},
                  "public_ips"),
                 (f"{key}.network_security_group", nic.network_security_group, nsgs,
                  "network_security_groups")]
    nics = {n.name for n in res.network_interfaces}
    for i, vm in enumerate(res.virtual_machines):
        refs += [(f"resources.virtual_machines[{i}].network_interfaces[{m}]", nic, nics,
                  "network_interfaces") for m, nic in enumerate(vm.network_interfaces)]
    return [(key, "names nothing declared in this spec (allowed: "
             f"{', '.join(sorted(known)) or 'none declared'} from {where})")
            for key, value, known, where in refs if value is not None and value not in known]
