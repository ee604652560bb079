"""Helpers of the validation tests: the shipped sites, copies of them in tmp_path with one file
edited, and ``make validate``'s output for a copy."""

import shutil
from pathlib import Path

from libraryops import paths
from libraryops.validation.run import main

EXAMPLE = paths.INVENTORIES / "example"
LAB = paths.INVENTORIES / "lab"
LAB_KEY_FILE = "/var/lib/libraryops-lab/ssh/id_ed25519.pub"


def copy_site(source: Path, tmp_path: Path) -> Path:
    site = tmp_path / source.name
    shutil.copytree(source, site)
    return site


def edit(site: Path, relpath: str, old: str, new: str) -> None:
    """Replace the first ``old`` in a file of the site; ``old`` must be there."""
    file = site / relpath
    text = file.read_text()
    assert old in text, f"{relpath} does not contain {old!r}"
    file.write_text(text.replace(old, new, 1))


def write(site: Path, relpath: str, text: str) -> None:
    file = site / relpath
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)


def run(site: Path, capsys) -> tuple[int, list[str]]:
    code = main([str(site)])
    return code, capsys.readouterr().out.splitlines()


def assert_problems(site: Path, capsys, expected: list[tuple[str, str, str]]) -> list[str]:
    """Exit 1 and exactly the ``expected`` (file, key, problem text) lines; returns them."""
    code, lines = run(site, capsys)
    assert code == 1
    assert lines[-1] == f"validate: {len(expected)} problem(s); nothing was contacted"
    problems = lines[:-1]
    assert len(problems) == len(expected), "\n".join(problems)
    for line, (file, key, text) in zip(problems, expected, strict=True):
        assert line.startswith(f"{site / file}: {key}: "), line
        assert text in line, line
    return problems
