"""Staff machines (role staff_workstation): packages, CUPS queues, the AD domain and its groups.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from libraryops.validation.base import fail, model_checker
from libraryops.validation.values import ipp_uri, lab_local

_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](-?[a-z0-9])*\.)+[a-z][a-z0-9-]*[a-z0-9]")


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
        lab_local(urlsplit(ipp_uri(value)).hostname or "", info)
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
        if not _DOMAIN.fullmatch(value):
            raise fail("domain", "not a lower-case DNS domain name")
        return lab_local(value, info)



check_staff_workstation = model_checker(StaffWorkstationModel, "staff_workstation.yml",
                                        "staff_machines")
