"""Monitoring (roles node_exporter and monitoring): the exporter's and Prometheus' ports (apart
from each other and from SSH), Prometheus' scrape interval, retention, web clients, alert delay
and files, and the monitoring hosts (staff machines with an IP address).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from libraryops import exposure
from libraryops.role_specs import role_default
from libraryops.validation.base import Problem, Site, display_path, fail, model_checker
from libraryops.validation.sshd import port_number, sshd_port
from libraryops.validation.values import Network

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


def _port(context: dict, name: str, role: str) -> int | None:
    return port_number(context.get(name), role_default(role, name))


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

    @field_validator("monitoring__clients")
    @classmethod
    def _not_the_internet(cls, networks: list[str] | None) -> list[str] | None:
        wide = exposure.too_public(networks or [])
        if wide:
            raise fail("exposure", f"together the networks reach the Internet in "
                                   f"{' and '.join(wide)}: Prometheus would answer anyone",
                       allowed=exposure.limit_text())
        return networks


check_node_exporter = model_checker(NodeExporterModel, "node_exporter.yml")
check_monitoring = model_checker(MonitoringModel, "monitoring.yml", MONITORING_GROUP)


def check_monitoring_hosts(site: Site) -> Iterator[Problem]:
    """A monitoring host is a staff machine (a public PC would serve Prometheus to patron
    sessions) whose ``ansible_host`` is a plain IP address: every host's firewall lets that
    address read its exporter, and nftables takes addresses, not names (nor an IPv6 zone, nor an
    IPv4-mapped IPv6 address, which IPv4 scrapes never come from)."""
    hosts_file = site.files.hosts_file
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
