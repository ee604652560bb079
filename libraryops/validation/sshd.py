"""sshd (role sshd): the port, the management networks SSH is let in from, the groups allowed
to log in (never locking out the account the engines connect as).

One port, ``sshd__port`` (the role's contract: default 22), is where sshd listens, what the
firewall rule sshd declares lets in, and what this module checks the engines connect to
(:func:`sshd_port`, :func:`engine_port`); the firewall check uses the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import paramiko
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from libraryops import exposure
from libraryops.role_specs import role_default
from libraryops.validation.base import Problem, Site, display_path, fail, model_checker
from libraryops.validation.values import Network

#: The port Ansible and pyinfra connect to when a host sets no ``ansible_port``: OpenSSH's
#: default (ssh_config(5), ``Port``), a fact about the client, not a setting of this project.
OPENSSH_DEFAULT_PORT = 22


def port_number(value: object, default: object) -> int | None:
    """A port setting as a number: ``default`` when unset or empty; None when the value is no
    whole number (the setting's own model reports it, and nothing here may repeat it: it may
    be vaulted)."""
    value = default if value is None or value == "" else value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdecimal() else None


def engine_port(hostvars: dict) -> int | None:
    """The TCP port the engines connect to a host on: ``ansible_port``, else OpenSSH's default
    (None: not a number, see :func:`port_number`)."""
    return port_number(hostvars.get("ansible_port"), OPENSSH_DEFAULT_PORT)


def sshd_port(hostvars: dict) -> int | None:
    """The port sshd listens on after a converge: ``sshd__port``, else the role's default
    (None: not a number, see :func:`port_number`)."""
    return port_number(hostvars.get("sshd__port"), role_default("sshd", "sshd__port"))


class SshdModel(BaseModel):
    """The sshd settings of a site (role sshd); the management networks are where SSH is let
    in from."""

    sshd__management_networks: list[Network] = Field(
        min_length=1, description="a list of networks such as 10.123.0.0/24, at least one; "
                                  "together not reaching the Internet")

    sshd__allow_groups: Annotated[list[Annotated[str, Field(
        strict=True, pattern=r"^[a-z_][a-z0-9_-]*$")]], Field(min_length=1)] | None = Field(
        None, description="a list of Unix group names, at least one")
    sshd__password_authentication: bool | None = Field(None, strict=True,
                                                       description="true or false")
    sshd__port: int | None = Field(
        None, strict=True, ge=1, le=65535, validate_default=True,
        description="a TCP port, 1-65535, the one the engines connect to")

    @field_validator("sshd__port")
    @classmethod
    def _where_the_engines_connect(cls, port: int | None, info: ValidationInfo) -> int | None:
        """sshd must listen where the engines connect (``ansible_port``): a converge that
        moved it elsewhere would lock the manager out."""
        context = info.context or {}
        wanted = engine_port(context)
        listens = sshd_port({**context, "sshd__port": port})
        if None not in (wanted, listens) and listens != wanted:
            whose = "" if port is not None else " (the role's default)"
            raise fail("port", f"sshd would listen on {listens}{whose}, but the engines connect "
                               f"to {wanted} (ansible_port): converging would lock the manager out",
                       allowed=f"{wanted}, or ansible_port set to the new port as well")
        return port

    @field_validator("sshd__management_networks")
    @classmethod
    def _not_the_internet(cls, networks: list[str]) -> list[str]:
        """SSH is let in from these networks only: together they may not reach the Internet
        (:func:`libraryops.exposure.too_public`), ``0.0.0.0/0`` in one piece or in many."""
        wide = exposure.too_public(networks)
        if wide:
            raise fail("exposure", f"together the networks reach the Internet in "
                                   f"{' and '.join(wide)}: SSH would answer anyone",
                       allowed=exposure.limit_text())
        return networks

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
            raise fail("lockout", f"does not allow {group}, the group of {user}, the account "
                                   "the engines connect as: converging would lock the manager "
                                   "out", allowed=f"a list including {group}")
        return groups



check_sshd = model_checker(SshdModel, "sshd.yml")


def pyinfra_key_exchanges() -> list[str]:
    """The key exchanges pyinfra's SSH connector can negotiate: those paramiko implements
    (``paramiko.Transport._kex_info``, paramiko's own table), in its order."""
    return list(paramiko.Transport._kex_info)


def check_pyinfra_kex(site: Site) -> Iterator[Problem]:
    """Public PCs are converged by pyinfra over paramiko: their sshd must offer a key exchange
    paramiko knows (paramiko 4.0 has no post-quantum one), through ``sshd__kex_extra_algorithms``
    in ``group_vars/public_pcs/sshd.yml``."""
    known = pyinfra_key_exchanges()
    expected = site.files.path / "group_vars" / "public_pcs" / "sshd.yml"
    for host in site.inventory.groups.get("public_pcs", []):
        hostvars = site.inventory.hosts.get(host, {})
        offered = [*(hostvars.get("sshd__kex_algorithms")
                     or role_default("sshd", "sshd__kex_algorithms")),
                   *(hostvars.get("sshd__kex_extra_algorithms") or [])]
        if not set(offered) & set(known):
            file = site.source("sshd__kex_extra_algorithms", host) or expected
            yield Problem(display_path(file), "sshd__kex_extra_algorithms",
                          "public PCs offer no key exchange pyinfra's SSH library (paramiko) "
                          "knows: the public-PC deploy could not connect",
                          "a list including one of " + ", ".join(
                              k for k in known if k.startswith(("curve25519", "ecdh"))))
