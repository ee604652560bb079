"""The baseline's checkers for ``make validate``: sshd (with the management networks),
firewall rules, updates, NTP servers and staff machines, each on every host that reads them.

Checkers for :data:`libraryops.validate.CHECKS`. Every problem names the file that defines the
variable (:meth:`Site.source`) and the key inside it. In the lab site (hosts that carry
``lab__bridge_address``) every outside service (NTP servers, printers, the AD domain) must be the
bridge's subnet or a name under ``.invalid``, so that nothing a lab host is told to contact ever
leaves the machine.

Imports from :mod:`libraryops.validate` happen inside functions: that module imports this one to
build its check list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from libraryops import firewall
from libraryops.hours import BranchHours

if TYPE_CHECKING:
    from libraryops.validate import Problem, Site

#: The site's own firewall declarations, lowest precedence first (group_vars/all, one group's
#: group_vars, host_vars).
FIREWALL_LAYERS = ("firewall__rules", "firewall__group_rules", "firewall__host_rules")
#: What roles and deploys declare they need, when the inventory carries it (pyinfra deploys).
DEPENDENT_RULES = re.compile(r"[a-z0-9_]+__firewall__dependent_rules")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](-?[a-z0-9])*\.)+[a-z][a-z0-9-]*[a-z0-9]")


@cache
def role_default(role: str, name: str) -> Any:
    """A role's default for ``name`` (``roles/<role>/defaults/main.yml``; None when absent)."""
    from libraryops import paths

    defaults = yaml.safe_load((paths.REPO / "roles" / role / "defaults" / "main.yml").read_text())
    return (defaults or {}).get(name)


def _lab_local(host: str, info: ValidationInfo) -> str:
    """In the lab, ``host`` must be on the bridge's subnet or under ``.invalid``."""
    bridge = (info.context or {}).get("lab__bridge_address")
    if not bridge or host.rstrip(".").endswith(".invalid"):
        return host
    network = ipaddress.ip_interface(str(bridge)).network
    try:
        inside = ipaddress.ip_address(host) in network
    except ValueError:
        inside = False
    if not inside:
        from libraryops.validate import _fail

        raise _fail("lab_outside", "in the lab, not on the bridge and not under .invalid",
                    allowed=f"an address in {network} or a name under .invalid")
    return host


def _server(value: str, info: ValidationInfo) -> str:
    from libraryops.validate import _address

    return _lab_local(_address(value), info)


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        from libraryops.validate import _fail

        raise _fail("network", "not a network address") from None


Server = Annotated[str, Field(strict=True), AfterValidator(_server)]
#: OnCalendar= expressions: a list of them, or one Jinja expression yielding it (the shipped
#: sites' ``branch_patch_calendar`` filter), checked by systemd-analyze on the host.
Calendar = Annotated[str, Field(strict=True, min_length=1)] | Annotated[
    list[Annotated[str, Field(strict=True, min_length=1)]], Field(min_length=1)]
Network = Annotated[str, Field(strict=True), AfterValidator(_network)]


class TimesyncModel(BaseModel):
    """``timesync__ntp_servers`` (role timesync)."""

    timesync__ntp_servers: list[Server] = Field(
        min_length=1, description="a list of NTP server addresses or host names, at least one")


class SshdModel(BaseModel):
    """The sshd settings of a site (role sshd); the management networks are where SSH is let
    in from."""

    sshd__management_networks: list[Network] = Field(
        min_length=1, description="a list of networks such as 10.123.0.0/24, at least one")

    sshd__allow_groups: Annotated[list[Annotated[str, Field(
        strict=True, pattern=r"^[a-z_][a-z0-9_-]*$")]], Field(min_length=1)] | None = Field(
        None, description="a list of Unix group names, at least one")
    sshd__password_authentication: bool | None = Field(None, strict=True,
                                                       description="true or false")

    @field_validator("sshd__allow_groups")
    @classmethod
    def _keeps_the_engines_in(cls, groups: list[str] | None,
                              info: ValidationInfo) -> list[str] | None:
        """The engines' account must stay allowed: root by the group root, a management
        account by the group the accounts role puts it in (``accounts__admin_group``)."""
        context = info.context or {}
        user = context.get("ansible_user", "root")
        group = "root" if user == "root" else str(
            context.get("accounts__admin_group") or role_default("accounts",
                                                                 "accounts__admin_group"))
        if groups is not None and group not in groups:
            from libraryops.validate import _fail

            raise _fail("lockout", f"does not allow {group}, the group of {user}, the account "
                                   "the engines connect as: converging would lock the manager "
                                   "out", allowed=f"a list including {group}")
        return groups


class UpdatesModel(BaseModel):
    """The update schedule (role updates), which a site sets explicitly (the role's defaults are
    fixed night times, not the branch's patch window); the calendar expressions are checked on
    the host by ``systemd-analyze calendar`` before they are installed. The upgrade starts at
    most ``updates__download_randomized_delay_minutes`` into the branch's patch window: that
    delay may take at most half the window, leaving the rest for installing and rebooting. A
    reboot at a fixed time must fall inside the patch window of every opening weekday."""

    updates__download_on_calendar: Calendar = Field(
        description="OnCalendar= expressions, normally the patch window's "
                    "(see inventories/example/group_vars/all/updates.yml)")
    updates__upgrade_on_calendar: Calendar = Field(
        description="OnCalendar= expressions, normally the patch window's "
                    "(see inventories/example/group_vars/all/updates.yml)")
    updates__reboot_time: Annotated[str, Field(strict=True, pattern=f"^(now|{_TIME.pattern})$")] \
        = Field(description='now (when the upgrade run ends), or a local time "HH:MM" inside '
                            "every opening day's patch window")
    updates__catch_up_missed_runs: bool = Field(strict=True, description="true or false")
    updates__automatic_reboot: bool | None = Field(None, strict=True, description="true or false")
    updates__download_randomized_delay_minutes: int | None = Field(
        None, strict=True, ge=0, le=240, description="whole minutes, 0-240, at most half of "
                                                     "branch__patch_window_minutes")

    @field_validator("updates__download_randomized_delay_minutes")
    @classmethod
    def _inside_patch_window(cls, delay: int | None, info: ValidationInfo) -> int | None:
        context = info.context or {}
        hours = _valid_hours(context)
        window = hours.branch__patch_window_minutes if hours else None
        if delay is not None and window is not None and delay > window // 2:
            from libraryops.validate import _fail

            raise _fail("patch_window", f"leaves less than half of {_branch(context)}'s "
                                        f"{window}-minute patch window for installing and "
                                        "rebooting",
                        allowed=f"0-{window // 2} (half of branch__patch_window_minutes)")
        return delay

    @field_validator("updates__reboot_time")
    @classmethod
    def _reboot_in_patch_window(cls, value: str, info: ValidationInfo) -> str:
        context = info.context or {}
        if value == "now" or context.get("updates__automatic_reboot") is False:
            return value
        from libraryops.validate import _fail

        hours = _valid_hours(context)
        if hours is None:
            return value
        windows = hours.patch_windows()
        hour, minute = map(int, value.split(":"))
        at = hour * 60 + minute
        outside = [day for day, (start, end) in windows.items()
                   if not (start <= at < end or start <= at + 1440 < end)]
        if outside:
            raise _fail("patch_window", f"outside {_branch(context)}'s patch window on "
                                        f"{', '.join(outside)}: the reboot would not happen "
                                        "while the building is closed and the PCs are on",
                        allowed='now, or a time inside every opening day\'s patch window')
        return value


def _valid_hours(context: dict) -> BranchHours | None:
    """The host's branch hours, or None when they do not validate (check_hours reports them:
    a cross-check against them would only repeat the problem)."""
    try:
        return BranchHours.from_vars(context)
    except ValidationError:
        return None


def _branch(context: dict) -> str:
    return str(context.get("branch__name") or "the branch")


class Printer(BaseModel):
    """One staff CUPS queue."""

    model_config = {"extra": "forbid"}

    name: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_-]{1,127}$")] = Field(
        description="a CUPS queue name: letters, digits, _ and -, at most 127")
    uri: str = Field(description="an ipp:// or ipps:// printer URI")
    description: str = Field("", description="text")
    location: str = Field("", description="text")

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str, info: ValidationInfo) -> str:
        from urllib.parse import urlsplit

        from libraryops.validate import _ipp_uri

        _lab_local(urlsplit(_ipp_uri(value)).hostname or "", info)
        return value


class StaffWorkstationModel(BaseModel):
    """Staff machine data (role staff_workstation)."""

    staff_workstation__packages: list[Annotated[str, Field(
        strict=True, pattern=r"^[a-z0-9][a-z0-9+.-]+$")]] = Field(
        [], description="a list of Debian package names")
    staff_workstation__printers: list[Printer] = Field(
        [], description="a list of {name, uri, description, location}")
    staff_workstation__ad_domain: str = Field(description="a DNS domain name, lower case")
    staff_workstation__ad_allowed_groups: list[Annotated[str, Field(strict=True, min_length=1)]] \
        = Field(min_length=1, description="AD group names allowed to log in, at least one")

    @field_validator("staff_workstation__ad_domain")
    @classmethod
    def _domain(cls, value: str, info: ValidationInfo) -> str:
        from libraryops.validate import _fail

        if not _DOMAIN.fullmatch(value):
            raise _fail("domain", "not a lower-case DNS domain name")
        return _lab_local(value, info)


def _members(site: Site, group: str | None) -> list[str]:
    return sorted(site.inventory.hosts) if group is None else site.inventory.groups.get(group, [])


def _model_checker(model: type[BaseModel], role_file: str, group: str | None = None):
    """A checker validating ``model`` on the hosts of ``group`` (all hosts when None); a missing
    variable belongs in ``group_vars/<group or all>/<role_file>``."""

    def check(site: Site) -> Iterator[Problem]:
        expected = site.files.path / "group_vars" / (group or "all") / role_file
        yield from site.model_problems(model, _members(site, group), expected)

    check.__doc__ = f"{model.__doc__} Checked on {group or 'every host'}."
    check.__name__ = f"check_{role_file.removesuffix('.yml')}"
    return check


check_timesync = _model_checker(TimesyncModel, "timesync.yml")
check_sshd = _model_checker(SshdModel, "sshd.yml")
check_updates = _model_checker(UpdatesModel, "updates.yml")
check_staff_workstation = _model_checker(StaffWorkstationModel, "staff_workstation.yml",
                                         "staff_machines")


def check_firewall(site: Site) -> Iterator[Problem]:
    """Every host's firewall declarations: keys ``<port>/<protocol>`` (1-65535; tcp or udp),
    valid rules, one action per port/protocol across all of them, ``firewall__group_rules``
    from at most one of the host's groups (Ansible keeps one, silently), and never SSH (the
    engines' port) dropped or rejected, which would lock the manager out."""
    from libraryops.validate import Problem, display_path

    found: list[Problem] = []
    for host in sorted(site.inventory.hosts):
        hostvars = site.inventory.hosts[host]
        definers = sorted(
            g for g in site.inventory.groups_of(host) if g != "all" and any(
                "firewall__group_rules" in names for _, names in site.files.scopes.get(
                    f"group:{g}", [])))
        if len(definers) > 1:
            winner = site.source("firewall__group_rules", host)
            found.append(Problem(
                display_path(winner), "firewall__group_rules",
                f"{host} is in {len(definers)} groups that define it ({', '.join(definers)}): "
                "only one applies, the others are silently ignored",
                "one group of each host defines firewall__group_rules; a host's own rules are "
                "firewall__host_rules"))
        names = [n for n in FIREWALL_LAYERS if n in hostvars]
        names += sorted(n for n in hostvars if DEPENDENT_RULES.fullmatch(n))
        default = site.files.path / "group_vars" / "all" / "firewall.yml"
        files = {n: site.source(n, host) or default for n in names}
        rules, problems = firewall.merge((n, hostvars[n]) for n in names)
        for problem in problems:
            text = problem.problem
            for name, file in files.items():
                text = text.replace(f"declared by {name}", f"in {display_path(file)}: {name}")
            key = f"{problem.layer}.{problem.key}" if problem.key else problem.layer
            found.append(Problem(display_path(files[problem.layer]), key, text, problem.allowed))
        ssh = f"{hostvars.get('ansible_port') or 22}/tcp"
        for rule in rules:
            if f"{rule.port}/{rule.proto}" == ssh and rule.action != "accept":
                name = rule.declared_by[0]
                found.append(Problem(
                    display_path(files[name]), f"{name}.{ssh}",
                    f"{rule.action}s SSH, the port the engines connect to: converging would "
                    "lock the manager out",
                    "accept (the sshd role already allows sshd__management_networks)"))
    yield from dict.fromkeys(found)


#: The checkers this module adds to :data:`libraryops.validate.CHECKS`.
CHECKS: list[Any] = [
    check_sshd,
    check_firewall,
    check_updates,
    check_timesync,
    check_staff_workstation,
]
