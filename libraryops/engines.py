"""The engines as phases of a run: Ansible, pyinfra, testinfra and the Azure commands, each
started with the site's environment, timed, its output redacted into ``reports/<site>/``.

:class:`Pipeline` is what the commands of :mod:`libraryops.pipeline` compose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from libraryops import paths, redact, report, revision
from libraryops.inventory import hosts_file, load_site

BIN = Path(sys.executable).parent
#: Exit status of a plan with changes (0: none, 1: error).
CHANGES = 2
#: Ansible exit codes that still produced a recap: 2 = a host failed, 4 = a host unreachable.
ANSIBLE_RECAP_CODES = (0, 2, 4)
#: The tag that selects the pyinfra public-PC deploy in ``make converge TAGS=...``; Ansible's
#: tags are its roles' names in playbooks/site.yml.
PUBLIC_PC_TAG = "public_pc"
#: The site.yml role that records the commit: it runs only in a whole converge.
RECORD_TAG = "converged"


def converge_tags(text: str) -> tuple[str, ...]:
    """The tags of ``make converge TAGS=...``: names separated by commas or spaces, each a role
    tag of ``playbooks/site.yml`` (read from the playbook) or :data:`PUBLIC_PC_TAG`.

    Returns:
        The tags in the order given, without repeats.

    Raises:
        ValueError: no tag, an unknown one, or :data:`RECORD_TAG` (the message names it and
            the allowed tags).
    """
    plays = yaml.safe_load((paths.REPO / "playbooks" / "site.yml").read_text(encoding="utf-8"))
    allowed = sorted({tag for play in plays for role in play.get("roles", [])
                      for tag in role.get("tags", [])} - {RECORD_TAG} | {PUBLIC_PC_TAG})
    tags = tuple(dict.fromkeys(text.replace(",", " ").split()))
    unknown = [t for t in tags if t not in allowed]
    if not tags or unknown:
        what = "names no tag" if not unknown else (
            f"{RECORD_TAG} records the commit: it runs only in a whole converge"
            if unknown == [RECORD_TAG] else
            f"{', '.join(unknown)} is not a role of playbooks/site.yml or the public-PC deploy")
        raise ValueError(f"TAGS: {what} (allowed: {', '.join(allowed)}; "
                         f"{RECORD_TAG} runs only in a whole converge)")
    return tags


def testinfra_argv(suites: Sequence[str], hosts_yml: Path, junit: Path,
                   workers: int) -> list[str]:
    """The pytest command line of a testinfra run: ``suites`` (paths) against the hosts of
    ``hosts_yml`` (an Ansible inventory file), a JUnit report at ``junit``, with ``workers``
    pytest-xdist processes when more than 1. The workers take whole files (``--dist
    loadfile``): tests of one file may change the same state on a host (test_wireless_ap's two
    lab-only switch tests turn one network off and on) and must not run side by side."""
    argv = [str(BIN / "pytest"), *suites, "-p", "no:cacheprovider", "-q",
            f"--ansible-inventory={hosts_yml}", f"--junitxml={junit}",
            "-o", "junit_family=xunit1"]
    if workers > 1:
        argv += ["-n", str(workers), "--dist", "loadfile"]
    return argv


class PhaseFailed(RuntimeError):
    """A phase's command exited with an unexpected status; the message names the phase."""


class Pipeline:
    """Runs named phases in order against one site, timing and announcing each.

    Args:
        site: the site name (``inventories/<site>``; used for ``reports/<site>``).
        inventory: the site directory; defaults to ``inventories/<site>``.
        limit: an Ansible/pyinfra limit (host or group), or None for all hosts.
        tags: :func:`converge_tags` for a converge of some roles (empty: everything).
        reports: where this run's results go; defaults to ``reports/<site>``.

    Every engine gets ``LIBRARYOPS_COMMIT`` (:func:`libraryops.revision.current`), which the
    ``converged`` role and deploy/record.py record on each host that converges cleanly.

    Raises:
        libraryops.revision.RevisionError: the repository's commit cannot be read.
    """

    def __init__(self, site: str, inventory: Path | None = None, limit: str | None = None,
                 reports: Path | None = None, tags: Sequence[str] = ()):
        self.site = site
        self.inventory = inventory or paths.site_dir(site)
        self.limit = limit
        self.tags = tuple(tags)
        self.reports = reports or paths.REPORTS / site
        self.started = time.monotonic()
        self._secrets: set[str] | None = None
        vault = paths.vault_password_file(self.inventory)
        self.commit = revision.current()
        self.env = dict(
            os.environ,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            ANSIBLE_CONFIG=str(paths.REPO / "ansible.cfg"),
            LIBRARYOPS_INVENTORY=str(self.inventory),
            LIBRARYOPS_COMMIT=self.commit,
        )
        if vault:
            self.env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(vault.resolve())

    @property
    def secrets(self) -> set[str]:
        """The site's secret values (loaded once, after validation)."""
        if self._secrets is None:
            self._secrets = redact.secret_values(load_site(self.inventory))
        return self._secrets

    def phase(self, name: str, action: Callable[[], None]) -> None:
        """Announce, run and time one phase (exceptions propagate)."""
        print(f"==> {name}  [+{time.monotonic() - self.started:.1f} s]", flush=True)
        began = time.monotonic()
        action()
        print(f"<== {name}: done in {time.monotonic() - began:.1f} s", flush=True)

    def run(self, name: str, argv: Sequence[str], *, ok: Sequence[int] = (0,),
            log: Path | None = None, stdout: Path | None = None, **env: str) -> int:
        """Run one command from the repository root.

        Args:
            name: the phase name for error messages.
            argv: the command.
            ok: exit statuses that are not failures.
            log: also save the command's (merged, redacted) output here; it still streams.
            stdout: send standard output to this file instead (stderr still streams).
            env: extra environment.

        Returns:
            The exit status.

        Raises:
            PhaseFailed: an exit status not in ``ok``.
        """
        env = {**self.env, **env}
        if log is not None:
            proc = subprocess.Popen(argv, cwd=paths.REPO, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            with log.open("w", encoding="utf-8") as saved:
                for line in proc.stdout:
                    line = redact.redact(line, self.secrets)
                    sys.stdout.write(line)
                    saved.write(line)
            returncode = proc.wait()
        elif stdout is not None:
            with stdout.open("w", encoding="utf-8") as out:
                returncode = subprocess.run(argv, cwd=paths.REPO, env=env, stdout=out,
                                            check=False).returncode
        else:
            returncode = subprocess.run(argv, cwd=paths.REPO, env=env, check=False).returncode
        if returncode not in ok:
            raise PhaseFailed(f"{name} failed (exit {returncode})")
        return returncode

    # -- phases -------------------------------------------------------------------------------

    def validate(self) -> None:
        """Validate the whole site (libraryops.validation); nothing is contacted."""
        self.run("validate", [str(BIN / "python"), "-m", "libraryops.validation",
                              str(self.inventory)])

    def lab_up(self) -> None:
        """Bring the lab's hosts up (idempotent; cached image)."""
        self.run("lab-up", [str(BIN / "python"), "-m", "libraryops.lab", "up",
                            "--site-dir", str(self.inventory)])

    def playbook(self, playbook: str, *extra: str, check: bool = False,
                 tolerate_failed_hosts: bool = False) -> int:
        """Run ``playbooks/<playbook>.yml``; its recap goes to ``ansible-<playbook>.json``.

        The output also goes (redacted) to ``ansible-<playbook>.txt``: the whole log of the run,
        with the ten slowest tasks at its end, while the screen stays calm (ansible.cfg: no
        skipped hosts). In check mode (``--check --diff``), or with ``tolerate_failed_hosts``,
        failed or unreachable hosts do not stop the pipeline: the summary reports them.
        Returns ansible-playbook's exit status.
        """
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = [str(BIN / "ansible-playbook"), "-i", str(hosts_file(self.inventory)),
                f"playbooks/{playbook}.yml", *extra]
        if check:
            argv += ["--check", "--diff"]
        if self.limit:
            argv += ["--limit", self.limit]
        if self.tags and playbook == "site":
            argv += ["--tags", ",".join(t for t in self.tags if t != PUBLIC_PC_TAG)]
        stats = str(self.reports / f"ansible-{playbook}.json")
        return self.run(f"ansible {playbook}", argv, LIBRARYOPS_ANSIBLE_STATS=stats,
                        ok=ANSIBLE_RECAP_CODES if check or tolerate_failed_hosts else (0,),
                        log=self.reports / f"ansible-{playbook}.txt")

    def bootstrap(self) -> None:
        """Ansible bootstrap.yml as root: create the management accounts."""
        self.playbook("bootstrap", "-e", "ansible_user=root")

    def pyinfra(self, hosts: Sequence[str], *, dry: bool = False, name: str = "public_pc") -> int:
        """The pyinfra public-PC deploy on ``hosts``.

        pyinfra's own ``--json`` result goes to ``pyinfra-<name>.json``. When every host fails,
        pyinfra stops ("No hosts remaining") without writing JSON; and a host it never ran on
        (unreachable, or not matched) appears in no operation. Either way the file then records
        those hosts as failed, and the status is 1. Returns pyinfra's exit status otherwise.
        """
        if not hosts:
            print(f"pyinfra {name}: no public PCs in this run")
            return 0
        self.reports.mkdir(parents=True, exist_ok=True)
        output = self.reports / f"pyinfra-{name}.json"
        # -y skips pyinfra's change detection, so a dry run goes without it.
        argv = [str(BIN / "pyinfra"), "--json", "--dry" if dry else "-y", "deploy/inventory.py",
                "deploy/public_pc.py", *(arg for host in hosts for arg in ("--limit", host))]
        status = self.run(f"pyinfra {name}", argv, ok=(0, 1), stdout=output)
        text = output.read_text(encoding="utf-8").strip()
        data = json.loads(text) if text else {"plan": [], "results": {"operations": []}}
        results = data.get("results")
        if dry and text:
            return status
        ran = {h for op in (results or {}).get("operations", [])
               for h in op["success"] + op["no_change"] + op["error"]}
        missing = [h for h in hosts if h not in ran]
        if missing:
            results = data["results"] = results or {"operations": []}
            results["failed_hosts"] = sorted(set(results.get("failed_hosts", [])) | set(missing))
            output.write_text(json.dumps(data), encoding="utf-8")
            print(f"pyinfra {name}: no result for {', '.join(missing)}", file=sys.stderr)
            return 1
        return status

    def public_pcs(self) -> list[str]:
        """The public PCs this run targets: ``public_pcs``, within LIMIT when given."""
        site = load_site(self.inventory)
        selected = set(site.hosts_matching(self.limit))
        return [h for h in site.groups.get("public_pcs", []) if h in selected]

    def verify(self, hosts: Sequence[str] = (), junit: Path | None = None,
               workers: int = 1, suites: Sequence[str] = ("tests/testinfra",)) -> int:
        """The testinfra suites against the site (or only ``hosts``); returns pytest's status."""
        self.reports.mkdir(parents=True, exist_ok=True)
        argv = testinfra_argv(suites, hosts_file(self.inventory),
                              junit or self.reports / "testinfra.xml", workers)
        return self.run("testinfra", argv, ok=(0, 1),
                        LIBRARYOPS_VERIFY_HOSTS=",".join(hosts))

    def azure(self, command: str) -> int:
        """Azure ``apply``/``plan``/``drift`` of the site's azure.yml; returns the exit status
        (plan and drift: 2 = differences). Sites without azure.yml skip it (status 0)."""
        if not (self.inventory / "azure.yml").is_file():
            print(f"azure {command}: {self.inventory}/azure.yml absent, nothing to do")
            return 0
        return self.run(f"azure {command}",
                        [str(BIN / "python"), f"azure/{command}.py", "--site", self.site,
                         "--inventory", str(self.inventory), "--report-dir", str(self.reports)],
                        ok=(0, CHANGES) if command != "apply" else (0,))

    def summary(self, expect_no_changes: bool) -> None:
        """Print the per-host summary; fail on failed checks (or changes, when not expected)."""
        argv = ["summary", "--dir", str(self.reports)]
        if expect_no_changes:
            argv.append("--expect-no-changes")
        if report.main(argv) != 0:
            raise PhaseFailed("summary: see the problems above")

    def clear_reports(self) -> None:
        """Start a run with an empty reports directory, so its summary is this run's alone."""
        shutil.rmtree(self.reports, ignore_errors=True)
        self.reports.mkdir(parents=True)
