"""A branch's facts (``branch__*`` in ``group_vars/branch_<slug>/branch.yml``): name, time zone,
catalog URL, print-release queue, and the country the ``holidays`` package suggests closures by.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import holidays
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from libraryops.hours_values import iana_time_zone
from libraryops.inventory import BRANCH_GROUP
from libraryops.validation.base import Problem, Site, fail
from libraryops.validation.values import NonEmptyText, http_url, ipp_uri


def _holiday_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code that the ``holidays`` package has public holidays for."""
    known = holidays.list_supported_countries()
    if len(value) != 2 or value not in known:
        raise fail("country", "not an ISO 3166-1 alpha-2 code the holidays package knows",
                    allowed="a two-letter code such as US, CA, GB, DE, DK")
    return value


class BranchModel(BaseModel):
    """A branch's facts (``branch__*``), defined once in ``group_vars/branch_<slug>/``."""

    branch__name: NonEmptyText = Field(description="the branch's name, non-empty text")
    branch__timezone: Annotated[str, Field(strict=True), AfterValidator(iana_time_zone)] = Field(
        description="an IANA Area/Location name, e.g. America/New_York, or UTC")
    branch__catalog_url: Annotated[str, Field(strict=True), AfterValidator(http_url)] = Field(
        description="an http:// or https:// URL with a host")
    branch__print_queue_uri: Annotated[str, Field(strict=True), AfterValidator(ipp_uri)] = Field(
        description="an ipp:// or ipps:// URI of the branch's print-release station")
    branch__country: Annotated[str, Field(strict=True), AfterValidator(_holiday_country)] | None \
        = Field(None, description="an ISO 3166-1 alpha-2 country code the holidays package "
                                  "knows, e.g. US (for make closures)")
    branch__subdivision: Annotated[str, Field(strict=True)] | None = Field(
        None, description="a subdivision code of branch__country the holidays package knows, "
                          "e.g. NY (for make closures)")

    @field_validator("branch__subdivision")
    @classmethod
    def _known_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("branch__country")
        if value is None:
            return value
        if country is None:
            raise fail("subdivision", "set without a valid branch__country",
                        allowed="branch__country set too, or no subdivision")
        known = holidays.list_supported_countries()[country]
        if value not in known:
            raise fail("subdivision", f"not a subdivision of {country} the holidays package "
                                       "knows", allowed=", ".join(known) or "none: leave it out")
        return value



def check_branches(site: Site) -> Iterator[Problem]:
    """Each branch group's facts, as seen on each of its hosts (:class:`BranchModel`)."""
    for group, members in sorted(site.inventory.groups.items()):
        if BRANCH_GROUP.fullmatch(group):
            expected = site.files.path / "group_vars" / group / "branch.yml"
            yield from site.model_problems(BranchModel, members, expected)
