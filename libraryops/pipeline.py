"""The pipelines behind the make targets: validate first, then the engines, then the checks.

``python -m libraryops.pipeline <command> --site SITE [--inventory DIR] [--limit L]``

Commands (each validates the whole site before anything is contacted):

- ``validate``: only that (allowed for documentation sites such as ``example``);
- ``bootstrap``: Ansible ``playbooks/bootstrap.yml`` as root (first contact with new hosts);
- ``converge``: Ansible ``playbooks/site.yml``, then the pyinfra public-PC deploy;
- ``verify``: the testinfra suites (JUnit XML in ``reports/<site>/testinfra.xml``);
- ``lab``: the main job on the local lab: validate, lab up, bootstrap, converge, verify, summary.

Every phase prints one line when it starts (with the time since the pipeline began) and one
when it ends (with its own duration). Engine results land in ``reports/<site>/`` and the
per-host summary is read from them (``libraryops.report``). Exit status: 0 success, 1 failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from libraryops import paths, report
from libraryops.inventory import hosts_file

BIN = Path(sys.executable).parent


class PhaseFailed(RuntimeError):
    """A phase's command exited non-zero; the message names the phase."""


class Pipeline:
    """Runs named phases in order against one site, timing and announcing each.

    Args:
        site: the site name (``inventories/<site>``; used for ``reports/<site>``).
        inventory: the site directory; defaults to ``inventories/<site>``.
        limit: an Ansible/pyinfra limit (host or group), or None for all hosts.
    """

    def __init__(self, site: str, inventory: Path | None = None, limit: str | None = None):
        self.site = site
        self.inventory = inventory or paths.site_dir(site)
        self.limit = limit
        self.reports = paths.REPORTS / site
        self.started = time.monotonic()
        vault = paths.vault_password_file(self.inventory)
        self.env = dict(
            os.environ,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONPATH=str(paths.REPO),
            ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
            LIBRARYOPS_INVENTORY=str(self.inventory),
        )
        if vault:
            self.env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(vault.resolve())

    def phase(self, name: str, action: Callable[[], None]) -> None:
        """Announce, run and time one phase.

        Raises:
            PhaseFailed: the phase's command failed (re-raised with the phase name).
        """
        print(f"==> {name}  [+{time.monotonic() - self.started:.1f} s]", flush=True)
        began = time.monotonic()
        action()
        print(f"<== {name}: done in {time.monotonic() - began:.1f} s", flush=True)

    def run(self, name: str, argv: list[str], **env: str) -> None:
        """Run one engine command from the repository root, streaming its output.

        Raises:
            PhaseFailed: non-zero exit.
        """
        proc = subprocess.run(argv, cwd=paths.REPO, env={**self.env, **env}, check=False)
        if proc.returncode != 0:
            raise PhaseFailed(f"{name} failed (exit {proc.returncode})")

    # -- phases -------------------------------------------------------------------------------

    def validate(self) -> None:
        """Validate the whole site (libraryops.validate); nothing is contacted."""
        self.run("validate", [str(BIN / "python"), "-m", "libraryops.validate",
                              str(self.inventory)])

    def lab_up(self) -> None:
        """Bring the lab's hosts up (idempotent; cached image)."""
        self.run("lab-up", [str(BIN / "python"), "-m", "libraryops.lab", "up",
                            "--site-dir", str(self.inventory)])

    def _playbook(self, playbook: str, *extra: str) -> None:
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = [str(BIN / "ansible-playbook"), "-i", str(hosts_file(self.inventory)),
                f"playbooks/{playbook}.yml", *extra]
        if self.limit:
            argv += ["--limit", self.limit]
        self.run(f"ansible {playbook}", argv,
                 LIBRARYOPS_ANSIBLE_STATS=str(self.reports / f"ansible-{playbook}.json"))

    def bootstrap(self) -> None:
        """Ansible bootstrap.yml as root: create the management accounts."""
        self._playbook("bootstrap", "-e", "ansible_user=root")

    def ansible_site(self) -> None:
        """Ansible site.yml as the management account."""
        self._playbook("site")

    def pyinfra_public_pcs(self) -> None:
        """The pyinfra public-PC deploy on public_pcs, or on LIMIT (the deploy skips others)."""
        self.reports.mkdir(parents=True, exist_ok=True)
        limit = ["--limit", self.limit or "public_pcs"]
        self.run("pyinfra public_pc",
                 [str(BIN / "pyinfra"), "-y", "deploy/inventory.py", "deploy/public_pc.py",
                  *limit],
                 LIBRARYOPS_PYINFRA_STATS=str(self.reports / "pyinfra-public_pc.json"))

    def verify(self) -> None:
        """The testinfra suites against the site's hosts."""
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = [str(BIN / "pytest"), "tests/testinfra", "-p", "no:cacheprovider",
                f"--ansible-inventory={hosts_file(self.inventory)}",
                f"--junitxml={self.reports / 'testinfra.xml'}", "-o", "junit_family=xunit1"]
        self.run("testinfra", argv)

    def azure(self, command: str) -> None:
        """Azure ``apply`` or ``plan`` of the site's azure.yml (the lab: the ARM stand-in)."""
        self.run(f"azure {command}", [str(BIN / "python"), f"azure/{command}.py",
                                      "--site", self.site, "--inventory", str(self.inventory)])

    def summary(self, expect_no_changes: bool) -> None:
        """Print the per-host summary; fail on failed checks (or changes, when not expected)."""
        argv = ["summary", "--dir", str(self.reports)]
        if expect_no_changes:
            argv.append("--expect-no-changes")
        if report.main(argv) != 0:
            raise PhaseFailed("summary: see the problems above")

    def clear_reports(self) -> None:
        """Start a run with an empty reports/<site>/, so the summary is this run's alone."""
        shutil.rmtree(self.reports, ignore_errors=True)
        self.reports.mkdir(parents=True)


def _commands(p: Pipeline, expect_no_changes: bool) -> dict[str, list[tuple[str, Callable]]]:
    converge = [("ansible site", p.ansible_site), ("pyinfra public PCs", p.pyinfra_public_pcs)]
    return {
        "validate": [("validate", p.validate)],
        "bootstrap": [("validate", p.validate), ("ansible bootstrap", p.bootstrap)],
        "converge": [("validate", p.validate), *converge],
        "verify": [("testinfra", p.verify)],
        "lab": [
            ("validate", p.validate),
            ("lab up", p.lab_up),
            ("ansible bootstrap", p.bootstrap),
            *converge,
            ("azure apply (ARM stand-in)", lambda: p.azure("apply")),
            ("azure plan: expect no changes", lambda: p.azure("plan")),
            ("testinfra", p.verify),
            ("summary", lambda: p.summary(expect_no_changes)),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.pipeline")
    parser.add_argument("command", choices=["validate", "bootstrap", "converge", "verify", "lab"])
    parser.add_argument("--site", default="lab")
    parser.add_argument("--inventory", type=Path, help="site directory (default inventories/SITE)")
    parser.add_argument("--limit", default=None, help="a host or group name")
    parser.add_argument("--expect-no-changes", action="store_true",
                        help="lab: fail the summary if any engine changed anything")
    args = parser.parse_args(argv)
    try:
        if args.command != "validate":
            paths.refuse_documentation_site(args.site, args.inventory)
        if args.command == "lab" and args.site != "lab":
            raise paths.SiteError(f"SITE={args.site}: `make lab` runs only the local lab site")
        pipeline = Pipeline(args.site, args.inventory, args.limit or None)
        if args.command == "lab":
            pipeline.clear_reports()
        for name, action in _commands(pipeline, args.expect_no_changes)[args.command]:
            pipeline.phase(name, action)
    except (PhaseFailed, paths.SiteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
