"""The one runner of the validation tests' bad-input tables: ``BAD = {case: (spoil, expected)}``
in each concern's test file, each case a copy of a shipped site with one edit."""

import pytest
from sites import assert_problems


@pytest.fixture
def bad_input(capsys):
    """``bad_input(site, (spoil, expected))``: apply ``spoil`` to ``site`` (a copy of a shipped
    site), then assert that ``make validate`` exits 1 with exactly the ``expected`` (file, key,
    problem text) lines, in order (``{site}`` in a text stands for the copy's path); returns the
    problem lines."""

    def check(site, case) -> list[str]:
        spoil, expected = case
        spoil(site)
        expected = [(f, k, t.replace("{site}", str(site))) for f, k, t in expected]
        return assert_problems(site, capsys, expected)

    return check
