"""Targets that contact hosts or Azure refuse the documentation-only example site."""

import subprocess

import pytest

from libraryops import paths


@pytest.mark.parametrize("target", ["plan", "apply", "verify", "converge", "azure-plan"])
def test_example_site_is_refused(target):
    proc = subprocess.run(["make", target, "SITE=example"], cwd=paths.REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "is a worked example for documentation" in proc.stdout + proc.stderr
