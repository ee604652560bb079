"""Monitoring (roles node_exporter and monitoring): the exporter's, Prometheus', Alertmanager's and
the blackbox exporter's ports (apart from each other and from SSH), Prometheus' scrape interval,
retention, web clients, alert delay and files, where alerts are e-mailed (addresses, relay,
sender), the services probed besides the inventory's own (``monitoring__probe_tcp``) and the
monitoring hosts (staff machines with an IP address).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from libraryops import exposure
from libraryops.role_specs import role_default
from libraryops.validation.base import Problem, Site, display_path, fail, model_checker
from libraryops.validation.sshd import port_number, sshd_port
from libraryops.validation.values import Network, Server
from libraryops.validation.values import address as host_address

#: The monitoring hosts' group: every host's exporter answers them (role node_exporter).
MONITORING_GROUP = "monitoring"
#: The function group a monitoring host must be in: not a public PC (a patron session would
#: reach Prometheus on localhost) nor an access point.
MONITORING_HOSTS_FROM = "staff_machines"
#: A Prometheus duration of whole seconds or minutes (Prometheus' docs, "Configuration":
#: <duration> is a number and a unit; this project allows s and m only).
DURATION = re.compile(r"(?P<number>[1-9][0-9]*)(?P<unit>[sm])")
#: The scrape interval's range, seconds: below 5 s the lab's 2 cores do little else; above
#: 5 min Prometheus marks series stale between two scrapes (its 5-minute lookback).
SCRAPE_SECONDS = (5, 300)
#: Ports a service running as the prometheus user may bind (no CAP_NET_BIND_SERVICE in
#: Debian's units): 1024 and above.
UNPRIVILEGED = 1024
#: Prometheus' files: only under Debian's /etc/prometheus, never a system file.
PrometheusFile = Annotated[str, Field(strict=True,
                                      pattern=r"^/etc/prometheus/[A-Za-z0-9_.-]+\.yml$")]
AbsoluteDir = Annotated[str, Field(strict=True, pattern=r"^(/[A-Za-z0-9_.-]+)+$")]
#: The files of role monitoring, each its own: one path for two would overwrite the other.
MONITORING_FILES = ("monitoring__config_path", "monitoring__rules_path",
                    "monitoring__alertmanager_config_path", "monitoring__blackbox_config_path")
#: The loopback services of the monitoring host after Prometheus: each port apart from SSH's,
#: the node exporter's and those before it (the name says whose it is in a problem).
LOCAL_SERVICES = {"monitoring__alertmanager_port": "Alertmanager's port",
                  "monitoring__blackbox_port": "the blackbox exporter's port"}
#: A probed service's name: it becomes the alerts' instance label.
PROBE_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


def _port(context: dict, name: str, role: str) -> int | None:
    return port_number(context.get(name), role_default(role, name))


def _setting(context: dict, name: str, value: object = None) -> object:
    """A monitoring setting as the role sees it: ``value`` when given (the one being
    validated), else the inventory's, else the role's default."""
    if value is not None:
        return value
    return context[name] if context.get(name) is not None else role_default("monitoring", name)


def _mail_setting(context: dict, name: str, value: object, missing: str, why: str) -> object:
    """A setting Alertmanager's e-mail needs, as the role sees it (:func:`_setting`).

    Raises:
        PydanticCustomError: it is empty while ``monitoring__alert_emails`` names anyone
            ("<missing> while monitoring__alert_emails names someone: <why>").
    """
    found = _setting(context, name, value)
    if not found and _setting(context, "monitoring__alert_emails"):
        raise fail("required", f"{missing} while monitoring__alert_emails names someone: {why}")
    return found


def _apart(context: dict, name: str, port: int | None) -> int | None:
    """``port`` (the value of ``name``, a port of :data:`LOCAL_SERVICES`), checked apart from
    SSH's, the node exporter's, Prometheus' and the local services listed before it.

    Raises:
        PydanticCustomError: the port (or the role's default) is one of those.
    """
    listens = _port({**context, name: port}, name, "monitoring")
    whose = "" if port is not None else " (the role's default)"
    others = {"the port sshd listens on": sshd_port(context),
              "the node exporter's": _port(context, "node_exporter__port", "node_exporter"),
              "Prometheus' port": _port(context, "monitoring__port", "monitoring")}
    for earlier in list(LOCAL_SERVICES)[:list(LOCAL_SERVICES).index(name)]:
        others[LOCAL_SERVICES[earlier]] = _port(context, earlier, "monitoring")
    for other_name, other in others.items():
        if listens is not None and listens == other:
            raise fail("port", f"{LOCAL_SERVICES[name][:1].upper()}{LOCAL_SERVICES[name][1:]}"
                               f"{whose} is {other_name}")
    return port


def _address(value: str) -> str | None:
    """Why ``value`` is no e-mail address for Alertmanager's ``to``/``from``, or None (syntax
    only, no DNS lookup: the email-validator library, RFC 5321/5322)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


class NodeExporterModel(BaseModel):
    """The node exporter settings of every host (role node_exporter)."""

    node_exporter__enabled: bool | None = Field(None, strict=True, description="true or false")
    node_exporter__port: int | None = Field(
        None, strict=True, ge=UNPRIVILEGED, le=65535, validate_default=True,
        description="a TCP port 1024-65535 other than SSH's (Prometheus' default: 9100)")
    node_exporter__textfile_dir: AbsoluteDir | None = Field(
        None, description="an absolute directory path such as /var/lib/prometheus/node-exporter")
    node_exporter__scrapers: list[Annotated[str, Field(strict=True)]] | None = Field(
        None, description="a list of IP addresses (the monitoring hosts' own, by default)")

    @field_validator("node_exporter__port")
    @classmethod
    def _not_ssh(cls, port: int | None, info: ValidationInfo) -> int | None:
        context = info.context or {}
        listens = _port({**context, "node_exporter__port": port}, "node_exporter__port",
                        "node_exporter")
        if listens is not None and listens == sshd_port(context):
            whose = "" if port is not None else " (the role's default)"
            raise fail("port", f"the exporter's port{whose} is the port sshd listens on",
                       allowed="another TCP port 1024-65535, or sshd__port moved")
        return port

    @field_validator("node_exporter__scrapers")
    @classmethod
    def _addresses(cls, scrapers: list[str] | None) -> list[str] | None:
        for address in scrapers or []:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise fail("address", "not an IP address") from None
        return scrapers


class ProbeTcp(BaseModel):
    """A service outside the branches probed by a TCP connect (``monitoring__probe_tcp``)."""

    model_config = {"extra": "forbid"}

    name: Annotated[str, Field(strict=True, pattern=PROBE_NAME)] = Field(
        description="a name of a-z, 0-9, _ and -, such as libki (it names the alert)")
    address: Server = Field(description="the service's IP address or host name")
    port: int = Field(strict=True, ge=1, le=65535, description="a TCP port 1-65535")


class MonitoringModel(BaseModel):
    """The Prometheus settings of the monitoring hosts (role monitoring)."""

    monitoring__scrape_interval: str | None = Field(
        None, strict=True, description="a duration of 5s to 5m, such as 15s or 1m")
    monitoring__retention_days: int | None = Field(
        None, strict=True, ge=1, le=3650, description="days, 1-3650")
    monitoring__down_minutes: int | None = Field(
        None, strict=True, ge=1, le=60, description="minutes, 1-60")
    monitoring__port: int | None = Field(
        None, strict=True, ge=UNPRIVILEGED, le=65535, validate_default=True,
        description="a TCP port 1024-65535 other than SSH's and the exporter's (Prometheus' "
                    "default: 9090)")
    monitoring__clients: list[Network] | None = Field(
        None, description="a list of networks such as 10.123.0.0/24 (empty: the host only); "
                          "together not reaching the Internet")
    monitoring__config_path: PrometheusFile | None = Field(
        None, description="a .yml file directly under /etc/prometheus/")
    monitoring__rules_path: PrometheusFile | None = Field(
        None, description="a .yml file directly under /etc/prometheus/")
    monitoring__hours_dir: AbsoluteDir | None = Field(
        None, description="an absolute directory path such as /etc/libraryops/monitoring")
    monitoring__alertmanager_port: int | None = Field(
        None, strict=True, ge=UNPRIVILEGED, le=65535, validate_default=True,
        description="a TCP port 1024-65535 other than SSH's, the exporter's and Prometheus' "
                    "(Alertmanager's default: 9093)")
    monitoring__alertmanager_config_path: PrometheusFile | None = Field(
        None, validate_default=True,
        description="a .yml file directly under /etc/prometheus/, not Prometheus' own files")
    monitoring__blackbox_port: int | None = Field(
        None, strict=True, ge=UNPRIVILEGED, le=65535, validate_default=True,
        description="a TCP port 1024-65535 other than SSH's, the exporter's, Prometheus' and "
                    "Alertmanager's (the blackbox exporter's default: 9115)")
    monitoring__blackbox_config_path: PrometheusFile | None = Field(
        None, validate_default=True,
        description="a .yml file directly under /etc/prometheus/, not another of the role's "
                    "files")
    monitoring__probe_tcp: list[ProbeTcp] | None = Field(
        None, description="a list of {name, address, port}, each name once")
    monitoring__alert_emails: list[Annotated[str, Field(strict=True)]] | None = Field(
        None, description="a list of e-mail addresses such as it@library.example")
    monitoring__smtp_smarthost: str | None = Field(
        None, strict=True, validate_default=True,
        description="host:port of the mail relay, such as mail.example.org:587 (needed when "
                    "monitoring__alert_emails names anyone)")
    monitoring__smtp_from: str | None = Field(
        None, strict=True, validate_default=True,
        description="the sender's e-mail address (needed when monitoring__alert_emails names "
                    "anyone)")
    monitoring__smtp_require_tls: bool | None = Field(None, strict=True,
                                                      description="true or false")
    monitoring__smtp_auth_username: str | None = Field(
        None, strict=True, description="the relay's login name (empty: no login)")
    monitoring__smtp_auth_password: str | None = Field(
        None, validate_default=True,
        description="a vaulted password, set when monitoring__smtp_auth_username is")
    monitoring__alert_wait_seconds: int | None = Field(
        None, strict=True, ge=0, le=300, description="seconds, 0-300")
    monitoring__disk_free_percent: int | None = Field(
        None, strict=True, ge=1, le=50, description="percent, 1-50")
    monitoring__certificate_warn_days: int | None = Field(
        None, strict=True, ge=1, le=365, description="days, 1-365")
    monitoring__alert_repeat_hours: int | None = Field(
        None, strict=True, ge=1, le=168, description="hours, 1-168")

    @field_validator("monitoring__scrape_interval")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        match = DURATION.fullmatch(value) if value is not None else None
        if value is not None and (
                not match or not SCRAPE_SECONDS[0] <= int(match["number"]) * (
                    60 if match["unit"] == "m" else 1) <= SCRAPE_SECONDS[1]):
            raise fail("duration", "not a scrape interval in range")
        return value

    @field_validator("monitoring__port")
    @classmethod
    def _apart(cls, port: int | None, info: ValidationInfo) -> int | None:
        context = info.context or {}
        listens = _port({**context, "monitoring__port": port}, "monitoring__port", "monitoring")
        whose = "" if port is not None else " (the role's default)"
        if listens is not None and listens == sshd_port(context):
            raise fail("port", f"Prometheus' port{whose} is the port sshd listens on")
        if listens is not None and listens == _port(context, "node_exporter__port",
                                                    "node_exporter"):
            raise fail("port", f"Prometheus' port{whose} is the node exporter's")
        return port

    @field_validator(*LOCAL_SERVICES)
    @classmethod
    def _local_apart(cls, port: int | None, info: ValidationInfo) -> int | None:
        return _apart(info.context or {}, info.field_name, port)

    @field_validator("monitoring__alertmanager_config_path", "monitoring__blackbox_config_path")
    @classmethod
    def _own_file(cls, path: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        mine = _setting(context, info.field_name, path)
        whose_file = {"monitoring__alertmanager_config_path": "Alertmanager's file",
                      "monitoring__blackbox_config_path": "the blackbox exporter's file"}
        for other in MONITORING_FILES[:MONITORING_FILES.index(info.field_name)]:
            if mine == _setting(context, other):
                whose = "" if path is not None else " (the role's default)"
                raise fail("path", f"{whose_file[info.field_name]}{whose} is {other}'s too: "
                                   "one would overwrite the other")
        return path

    @field_validator("monitoring__probe_tcp")
    @classmethod
    def _unique_names(cls, services: list[ProbeTcp] | None) -> list[ProbeTcp] | None:
        names = [service.name for service in services or []]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise fail("unique", f"a name given twice: {', '.join(twice)} (each names its "
                                 "own alert)")
        return services

    @field_validator("monitoring__alert_emails")
    @classmethod
    def _emails(cls, addresses: list[str] | None) -> list[str] | None:
        for number, address in enumerate(addresses or [], start=1):
            problem = _address(address)
            if problem:
                raise fail("email", f"entry {number} is not an e-mail address: {problem}")
        return addresses

    @field_validator("monitoring__smtp_smarthost")
    @classmethod
    def _relay(cls, value: str | None, info: ValidationInfo) -> str | None:
        relay = _mail_setting(info.context or {}, "monitoring__smtp_smarthost", value,
                              "no mail relay", "Alertmanager could not send")
        if not relay:
            return value
        try:
            parts = urlsplit(f"//{relay}")
            port = parts.port
        except ValueError:
            parts, port = None, None
        host = parts.hostname if parts else None
        if (not host or port is None or port == 0 or parts.username or parts.path
                or not _is_address(host)):
            raise fail("relay", "not host:port with a host name or IP address and a port "
                                "1-65535")
        return value

    @field_validator("monitoring__smtp_from")
    @classmethod
    def _sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        sender = _mail_setting(info.context or {}, "monitoring__smtp_from", value,
                               "no sender address", "mail relays refuse mail without one")
        if not sender:
            return value
        problem = _address(str(sender))
        if problem:
            raise fail("email", f"not an e-mail address: {problem}")
        return value

    @field_validator("monitoring__smtp_auth_password")
    @classmethod
    def _login(cls, value: object, info: ValidationInfo) -> object:
        context = info.context or {}
        if _setting(context, "monitoring__smtp_auth_username") and not _setting(
                context, "monitoring__smtp_auth_password", value):
            raise fail("required", "no password while monitoring__smtp_auth_username is set")
        return value

    @field_validator("monitoring__clients")
    @classmethod
    def _not_the_internet(cls, networks: list[str] | None) -> list[str] | None:
        wide = exposure.too_public(networks or [])
        if wide:
            raise fail("exposure", f"together the networks reach the Internet in "
                                   f"{' and '.join(wide)}: Prometheus would answer anyone",
                       allowed=exposure.limit_text())
        return networks


def _is_address(host: str) -> bool:
    try:
        host_address(host)
    except PydanticCustomError:
        return False
    return True


check_node_exporter = model_checker(NodeExporterModel, "node_exporter.yml")
check_monitoring = model_checker(MonitoringModel, "monitoring.yml", MONITORING_GROUP)


def check_monitoring_hosts(site: Site) -> Iterator[Problem]:
    """Settings for the monitoring group need a host in it. A monitoring host is a staff
    machine (a public PC would serve Prometheus to patron sessions) whose ``ansible_host`` is a
    plain IP address: every host's firewall lets that address read its exporter, and nftables
    takes addresses, not names (nor an IPv6 zone, nor an IPv4-mapped IPv6 address, which IPv4
    scrapes never come from)."""
    hosts_file = site.files.hosts_file
    if site.inventory.hosts and not site.inventory.groups.get(MONITORING_GROUP):
        for file, names in site.files.scopes.get(f"group:{MONITORING_GROUP}", []):
            if names:
                yield Problem(display_path(file), sorted(names)[0],
                              f"set for the group {MONITORING_GROUP}, which has no host: "
                              "nothing would scrape the hosts nor send an alert",
                              f"a staff machine listed under groups.{MONITORING_GROUP} in "
                              "hosts.yml, or no such file")
    for host in site.inventory.groups.get(MONITORING_GROUP, []):
        if host not in site.inventory.groups.get(MONITORING_HOSTS_FROM, []):
            yield Problem(display_path(hosts_file), f"groups.{MONITORING_GROUP}.{host}",
                          "a monitoring host that is not a staff machine: patron sessions or "
                          "the access point's clients would be beside Prometheus",
                          f"hosts of {MONITORING_HOSTS_FROM}")
        value = site.inventory.hosts[host].get("ansible_host")
        if value is None:
            continue  # the host check names a missing address
        file = site.source("ansible_host", host) or hosts_file
        key = f"hosts.{host}.ansible_host" if file == hosts_file else "ansible_host"
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            address = None
        if address is None or getattr(address, "scope_id", None) or getattr(
                address, "ipv4_mapped", None):
            yield Problem(display_path(file), key,
                          "a monitoring host's address goes into every host's firewall",
                          "an IPv4 or IPv6 address, without a zone, not IPv4-mapped")
