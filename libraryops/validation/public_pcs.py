"""Public PC data read by the pyinfra deploys (``public_pc__*``) on the hosts of ``public_pcs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from deploy.defaults import DEFAULTS
from libraryops.validation.base import Problem, Site, fail
from libraryops.validation.values import LinuxUserName, NonEmptyText


class PublicPcModel(BaseModel):
    """Public PC data read by the pyinfra deploys (``public_pc__*``)."""

    public_pc__patron_user: LinuxUserName | None = Field(
        None, description="a Linux user name ([a-z_][a-z0-9_-]*), not root")
    public_pc__patron_can_power_off: bool | None = Field(
        None, strict=True, description="true or false")
    public_pc__idle_logout_minutes: int | None = Field(
        None, strict=True, ge=1, le=480, description="whole minutes, 1-480")
    public_pc__idle_warning_seconds: int | None = Field(
        None, strict=True, ge=10, le=600, description="whole seconds, 10-600")
    public_pc__urgent_warning_seconds: int | None = Field(
        None, strict=True, ge=10, le=1800,
        description="whole seconds, 10-1800, a patron is warned before an urgent update ends "
                    "the session")
    public_pc__usb_storage: Literal["allowed", "blocked"] | None = Field(
        None, description="allowed or blocked")
    public_pc__print_queue_name: Annotated[str, Field(
        strict=True, pattern=r"^[A-Za-z0-9_-]{1,127}$")] | None = Field(
        None, description="a CUPS queue name: letters, digits, _ and -, at most 127")
    public_pc__browser_allow_urls: list[NonEmptyText] | None = Field(
        None, description="a list of Firefox WebsiteFilter match patterns")
    public_pc__browser_block_urls: list[NonEmptyText] | None = Field(
        None, description="a list of Firefox WebsiteFilter match patterns")
    public_pc__xserver_packages: list[NonEmptyText] | None = Field(
        None, description="a list of Debian package names")
    public_pc__xserver_command: str | None = Field(None, strict=True, description="text")
    public_pc__lab_no_vt: bool | None = Field(None, strict=True, description="true or false")
    public_pc__power_actions: Literal["act", "log"] | None = Field(
        None, description="act (power off and set the RTC wake alarm) or log (only log them)")

    @field_validator("public_pc__patron_user")
    @classmethod
    def _patron_is_not_a_manager(cls, user: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        managers = {str(entry.get("name")) for entry in context.get(
            "accounts__management_users") or [] if isinstance(entry, dict)}
        managers.add(str(context.get("ansible_user", "root")))
        if user in managers:
            raise fail("manager", "a management account: its home would be wiped and its "
                                   "sessions ended at every patron logout",
                        allowed="a Linux user name of its own, e.g. patron")
        return user

    @field_validator("public_pc__idle_warning_seconds")
    @classmethod
    def _warning_inside_idle(cls, warning: int | None, info: ValidationInfo) -> int | None:
        minutes = info.data.get("public_pc__idle_logout_minutes")
        if minutes is None:
            minutes = DEFAULTS["public_pc__idle_logout_minutes"]
        if warning is not None and warning >= minutes * 60:
            raise fail("warning", "the warning is as long as the idle time itself",
                        allowed=f"fewer than public_pc__idle_logout_minutes x 60 = {minutes * 60}")
        return warning



def check_public_pcs(site: Site) -> Iterator[Problem]:
    """Public PC data on the hosts of ``public_pcs`` (:class:`PublicPcModel`)."""
    expected = site.files.path / "group_vars" / "public_pcs" / "public_pc.yml"
    members = site.inventory.groups.get("public_pcs", [])
    yield from site.model_problems(PublicPcModel, members, expected)
