"""The site's Azure spec (``azure.yml``), when it has one: checked by :mod:`libraryops.cloud.spec`.
"""

from __future__ import annotations

from collections.abc import Iterator

from libraryops.cloud import spec as azure_spec
from libraryops.validation.base import Problem, SiteFiles


def check_azure(files: SiteFiles) -> Iterator[Problem]:
    """``azure.yml``, when the site has one (the checks live in :mod:`libraryops.cloud.spec`)."""
    yield from azure_spec.check_site(files.path)
