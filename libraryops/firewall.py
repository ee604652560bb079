"""Firewall rules as data: one mapping keyed by ``"<port>/<protocol>"``, merged from all sources.

A declaration maps ``"22/tcp"``-style keys to rules::

    "631/tcp": {action: accept, sources: [10.123.0.0/24], comment: CUPS printer sharing}

``action`` is accept (default), drop or reject; ``sources`` lists networks (none: from
anywhere). The site declares its own (``firewall__rules`` in ``group_vars/all``,
``firewall__group_rules`` in one group's ``group_vars``, ``firewall__host_rules`` in
``host_vars``); roles and deploys declare what they need (``<owner>__firewall__dependent_rules``,
DebOps' "dependent rules"), and the firewall role, the only writer of nftables rules, merges them
with :func:`merge`. Because a key names one port and one protocol, two declarations of the same
port either agree on the action (their sources are merged) or conflict, which is an error naming
both: there is no rule order to get wrong.

Used by ``make validate`` (:mod:`libraryops.validation.firewall`) and by the firewall role's filter
plugin (``roles/firewall/filter_plugins/firewall.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from libraryops.problem import Problem

PROTOCOLS = ("tcp", "udp")
ACTIONS = ("accept", "drop", "reject")
_KEY = re.compile(r"(?P<port>[0-9]+)/(?P<proto>[A-Za-z0-9-]+)")
#: nftables' longest comment, in bytes (the merged comments are cut to fit).
COMMENT_MAX = 128
#: Characters a comment may not hold: it is rendered inside an nftables double-quoted string.
_COMMENT_FORBIDDEN = re.compile(r'["\\\n\r]')


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError("not a network address (e.g. 10.0.0.0/24 or 2001:db8::/64)") from None


def _comment(value: str) -> str:
    if _COMMENT_FORBIDDEN.search(value):
        raise ValueError("may not contain double quotes, backslashes or line breaks")
    return value


class FirewallRule(BaseModel):
    """One rule: what happens to new inbound connections to its port/protocol."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["accept", "drop", "reject"] = Field(
        "accept", description="accept, drop or reject")
    sources: list[Annotated[str, Field(strict=True), AfterValidator(_network)]] = Field(
        [], description="networks allowed to connect (none: from anywhere)")
    comment: Annotated[str, Field(strict=True), AfterValidator(_comment)] = Field(
        "", description="text without double quotes, backslashes or line breaks")


@dataclass
class MergedRule:
    """A merged rule, ready to render: port, protocol, action, sources by family (both empty:
    from anywhere), comments and the declarations it came from."""

    port: int
    proto: str
    action: str
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    anywhere: bool = False
    comments: list[str] = field(default_factory=list)
    declared_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for templates."""
        return {"port": self.port, "proto": self.proto, "action": self.action,
                "ipv4": self.ipv4, "ipv6": self.ipv6, "anywhere": self.anywhere,
                "comment": "; ".join(self.comments).encode()[:COMMENT_MAX].decode(errors="ignore"),
                "declared_by": self.declared_by}


def parse_key(key: Any) -> tuple[int, str]:
    """``"22/tcp"`` -> ``(22, "tcp")``.

    Raises:
        ValueError: not ``<port>/<protocol>``, a port outside 1-65535 or an unknown protocol
            (the message says which).
    """
    match = _KEY.fullmatch(str(key))
    if not match:
        raise ValueError("not <port>/<protocol>")
    port, proto = int(match["port"]), match["proto"]
    if match["port"].startswith("0") and port:
        raise ValueError(f"port {match['port']} has a leading zero (the same port as {port})")
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} outside 1-65535")
    if proto not in PROTOCOLS:
        raise ValueError(f"protocol {proto!r} unknown")
    return port, proto


def _allowed_for_key(message: str) -> str:
    if message.startswith("protocol"):
        return ", ".join(PROTOCOLS)
    return "<port>/<protocol>, port 1-65535, protocol " + " or ".join(PROTOCOLS)


def check_declaration(layer: str, declaration: Any) -> tuple[dict[tuple[int, str], FirewallRule],
                                                                list[Problem]]:
    """Parse one declaration; return its valid rules and the problems of the others."""
    if declaration is None:
        return {}, []
    if not isinstance(declaration, Mapping):
        return {}, [Problem(layer, "", "not a mapping",
                                'a mapping of "<port>/<protocol>" to rules')]
    rules, problems = {}, []
    for key, value in declaration.items():
        try:
            parsed = parse_key(key)
        except ValueError as exc:
            problems.append(Problem(layer, str(key), str(exc), _allowed_for_key(str(exc))))
            continue
        try:
            rules[parsed] = FirewallRule.model_validate(value or {})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join([str(key), *(str(p) for p in error["loc"])])
                text = error["msg"].removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    text = "unknown key"
                problems.append(Problem(layer, where, text[:1].lower() + text[1:],
                                            ", ".join(FirewallRule.model_fields)
                                            if error["type"] == "extra_forbidden" else ""))
    return rules, problems


def merge(layers: Iterable[tuple[str, Any]]) -> tuple[list[MergedRule], list[Problem]]:
    """Merge declarations, lowest precedence first.

    Args:
        layers: (who declared it, declaration) pairs; a declaration is a mapping as in the
            module doc (None = nothing declared).

    Returns:
        The merged rules sorted by protocol and port, and every problem: invalid keys and rules,
        and each port/proto declared with two actions (reported on the later declaration).
    """
    merged: dict[tuple[int, str], MergedRule] = {}
    problems: list[Problem] = []
    for layer, declaration in layers:
        rules, found = check_declaration(layer, declaration)
        problems += found
        for (port, proto), rule in rules.items():
            current = merged.get((port, proto))
            if current is None:
                current = merged[(port, proto)] = MergedRule(port, proto, rule.action,
                                                             anywhere=not rule.sources)
            elif current.action != rule.action:
                problems.append(Problem(
                    layer, f"{port}/{proto}",
                    f"action {rule.action} conflicts with {current.action} declared by "
                    f"{', '.join(current.declared_by)}",
                    "one action per port/protocol (the same action merges the sources)"))
                continue
            current.anywhere = current.anywhere or not rule.sources
            for source in rule.sources:
                family = current.ipv6 if ":" in source else current.ipv4
                if source not in family:
                    family.append(source)
            if rule.comment and rule.comment not in current.comments:
                current.comments.append(rule.comment)
            current.declared_by.append(layer)
    for rule in merged.values():
        if rule.anywhere:
            rule.ipv4, rule.ipv6 = [], []
    return [merged[key] for key in sorted(merged, key=lambda k: (k[1], k[0]))], problems


def covers(rules: Iterable[MergedRule], port: int, proto: str, address: str) -> bool:
    """True when the merged ``rules`` accept new connections from ``address`` to port/proto."""
    ip = ipaddress.ip_address(address)
    for rule in rules:
        if (rule.port, rule.proto) == (port, proto) and rule.action == "accept":
            networks = rule.ipv6 if ip.version == 6 else rule.ipv4
            return rule.anywhere or any(ip in ipaddress.ip_network(n) for n in networks)
    return False
