"""Management accounts (role accounts): at least one, each once, each with a valid key, and the
account the engines connect as among them.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from libraryops.validation.base import Problem, Site, fail
from libraryops.validation.values import _KEY_TYPES_TEXT, LinuxUserName, SshKeyFile, SshPublicKey


class ManagementUser(BaseModel):
    """One entry of ``accounts__management_users`` (role accounts).

    Needs at least one key: ``ssh_keys`` (public key lines) or ``ssh_key_files`` (absolute paths
    of files holding public key lines, which must exist now).
    """

    model_config = ConfigDict(extra="forbid")

    name: LinuxUserName = Field(description="a Linux user name ([a-z_][a-z0-9_-]*), not root")
    comment: str | None = Field(None, description="text (who the account belongs to)")
    ssh_keys: list[SshPublicKey] = Field([], description=f"OpenSSH public keys: {_KEY_TYPES_TEXT}")
    ssh_key_files: list[SshKeyFile] = Field(
        [], description=f"absolute paths of files holding OpenSSH public keys: {_KEY_TYPES_TEXT}")

    @model_validator(mode="after")
    def _some_key(self) -> ManagementUser:
        if not self.ssh_keys and not self.ssh_key_files:
            raise fail("no_key", "no SSH key: the account could not log in",
                        allowed="ssh_keys and/or ssh_key_files, at least one key")
        return self


class AccountsModel(BaseModel):
    """``accounts__management_users``: at least one account, keeping the one engines log in as."""

    accounts__management_users: list[ManagementUser] = Field(
        min_length=1, description="a list of {name, comment, ssh_keys, ssh_key_files}, "
                                  "at least one account")

    @field_validator("accounts__management_users")
    @classmethod
    def _keeps_connecting_user(cls, value: list[ManagementUser],
                               info: ValidationInfo) -> list[ManagementUser]:
        user = (info.context or {}).get("ansible_user", "root")
        names = [entry.name for entry in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise fail("twice", f"lists {', '.join(twice)} more than once: the accounts role "
                                 "would keep only the last entry's keys (a lockout)",
                        allowed="each account once, with all its keys")
        if user != "root" and user not in names:
            raise fail("lockout", "does not list the account the engines connect as "
                                   "(ansible_user): converging would lock the manager out",
                        allowed=f"a list including {user}")
        return value



def check_accounts(site: Site) -> Iterator[Problem]:
    """Management accounts and their keys, on every host (:class:`AccountsModel`)."""
    expected = site.files.path / "group_vars" / "all" / "accounts.yml"
    yield from site.model_problems(AccountsModel, site.inventory.hosts, expected)
