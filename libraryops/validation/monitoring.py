"""Monitoring (roles node_exporter and monitoring): the exporter's port, Prometheus' scrape
interval, retention, web clients and alert delay, and the monitoring hosts' addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from libraryops import exposure
from libraryops.validation.base import Problem, Site, display_path, fail, model_checker
from libraryops.validation.sshd import sshd_port
from libraryops.validation.values import Network

#: The monitoring hosts' group: every host's exporter answers them (role node_exporter).
MONITORING_GROUP = "monitoring"
#: A Prometheus duration of whole seconds or minutes (Prometheus' docs, "Configuration":
#: <duration> is a number and a unit; this project allows s and m only).
DURATION = re.compile(r"(?P<number>[1-9][0-9]*)(?P<unit>[sm])")
#: The scrape interval's range, seconds: below 5 s the lab's 2 cores do little else; above
#: 5 min Prometheus marks series stale between two scrapes (its 5-minute lookback).
SCRAPE_SECONDS = (5, 300)


class NodeExporterModel(BaseModel):
    """``node_exporter__port`` (role node_exporter)."""

    node_exporter__port: int | None = Field(
        None, strict=True, ge=1, le=65535,
        description="a TCP port 1-65535 other than SSH's (Prometheus' default: 9100)")

    @field_validator("node_exporter__port")
    @classmethod
    def _not_ssh(cls, port: int | None, info: ValidationInfo) -> int | None:
        if port is not None and port == sshd_port(info.context or {}):
            raise fail("port", "is the port sshd listens on")
        return port


class MonitoringModel(BaseModel):
    """The Prometheus settings of the monitoring hosts (role monitoring)."""

    monitoring__scrape_interval: str | None = Field(
        None, strict=True, description="a duration of 5s to 5m, such as 15s or 1m")
    monitoring__retention_days: int | None = Field(
        None, strict=True, ge=1, le=3650, description="days, 1-3650")
    monitoring__down_minutes: int | None = Field(
        None, strict=True, ge=1, le=60, description="minutes, 1-60")
    monitoring__port: int | None = Field(
        None, strict=True, ge=1024, le=65535,
        description="a TCP port 1024-65535 (Prometheus' default: 9090)")
    monitoring__clients: list[Network] | None = Field(
        None, description="a list of networks such as 10.123.0.0/24 (empty: the host only); "
                          "together not reaching the Internet")

    @field_validator("monitoring__scrape_interval")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        match = DURATION.fullmatch(value) if value is not None else None
        if value is not None and (
                not match or not SCRAPE_SECONDS[0] <= int(match["number"]) * (
                    60 if match["unit"] == "m" else 1) <= SCRAPE_SECONDS[1]):
            raise fail("duration", "not a scrape interval in range")
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


check_node_exporter = model_checker(NodeExporterModel, "node_exporter.yml")
check_monitoring = model_checker(MonitoringModel, "monitoring.yml", MONITORING_GROUP)


def check_monitoring_hosts(site: Site) -> Iterator[Problem]:
    """A monitoring host's ``ansible_host`` is an IP address: every host's firewall lets that
    address read its exporter, and nftables takes addresses, not names."""
    where = display_path(site.files.hosts_file)
    for host in site.inventory.groups.get(MONITORING_GROUP, []):
        try:
            ipaddress.ip_address(str(site.inventory.hosts[host].get("ansible_host", "")))
        except ValueError:
            yield Problem(where, f"hosts.{host}.ansible_host",
                          "a monitoring host's address goes into every host's firewall",
                          "an IPv4 or IPv6 address")
