"""No plaintext secret gets past `make lint`: libraryops.lint_secrets, and the secret hooks of
.pre-commit-config.yaml run by pre-commit on a copy of the tree (as `make lint` runs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from libraryops import paths
from libraryops.lint_secrets import check_file, check_yaml, main

REPO = paths.REPO
VENV_BIN = REPO / ".venv" / "bin"
# What the fault tests add: a Wi-Fi passphrase detect-secrets' heuristics let through, and a
# password its keyword detector catches. Neither is a real secret.
PASSPHRASE = "correct horse battery staple"  # pragma: allowlist secret
PASSWORD = "Tr0ub4dor&3-unit-test"  # pragma: allowlist secret
VAULT_VALUE = """!vault |
  $ANSIBLE_VAULT;1.1;AES256
  37366630326565633366373063333138353032383931356635393531343138663132633832383436
  3032623336303563666634626333306664383635663333390a643265393263343065646235646465
"""


def keys(text: str) -> list[tuple[int, str]]:
    return [(line, key) for line, key, _ in check_yaml(text)]


# --- the check itself -------------------------------------------------------------------------

def test_a_plaintext_psk_is_found_with_its_line():
    text = f'---\nwireless__country_code: US\nwireless__main_psk: "{PASSPHRASE}"\n'
    assert keys(text) == [(3, "wireless__main_psk")]


def test_secret_names_match_the_redaction_names():
    text = "".join(f"x_{name}: value-{i}\n" for i, name in enumerate(
        ["password", "PassPhrase", "psk", "client_secret", "api_token", "passwd_hint"]))
    assert [key for _, key in keys(text)] == [
        "x_password", "x_PassPhrase", "x_psk", "x_client_secret", "x_api_token"]


def test_values_below_a_secret_named_key_and_in_lists_are_checked():
    text = (
        "wireless__networks:\n"
        "  - name: public\n"
        f"    psk: {PASSPHRASE}\n"
        "wireless__secrets:\n"
        "  staff:\n"
        "    - first-plaintext\n"
    )
    assert keys(text) == [(3, "psk"), (6, "wireless__secrets")]


def test_vault_values_and_vault_files_pass():
    assert keys(f"staff_workstation__ad_join_password: {VAULT_VALUE}") == []
    assert check_yaml("$ANSIBLE_VAULT;1.1;AES256\n3736663032656563\n") == []


@pytest.mark.parametrize("value", [
    "false", "true", "no", '"no"', "'yes'", "8", "null", "~", '""',
    '"{{ vault_wireless_psk }}"', "'{{ wireless__secrets.public }}'",
    '"{{ wireless__secrets | default({}) }}"',
])
def test_values_that_are_not_secrets_pass(value):
    assert keys(f"sshd__password_authentication: {value}\n") == []


def test_a_jinja_expression_with_a_literal_is_still_plaintext():
    assert keys("x_password: \"{{ 'hunter2hunter2' }}\"\n") == [(1, "x_password")]


def test_locations_and_reviewed_lines_pass():
    assert keys("wifi_client__psk_file: /etc/libraryops/psk\n") == []
    assert keys(f"x_psk: {PASSPHRASE}  # pragma: allowlist secret\n") == []


def test_unparsable_yaml_is_a_finding():
    assert check_yaml("x_psk: [unclosed\n")[0][2].startswith("not valid YAML")


def test_vault_password_files_only_for_the_test_sites(tmp_path):
    for site, text, ok in [("lab", "libraryops-lab-not-secret\n", True),
                           ("example", "libraryops-example-not-secret\n", True),
                           ("lab", "a-real-password\n", False),
                           ("riverton", "libraryops-riverton-not-secret\n", False)]:
        path = tmp_path / "inventories" / site / "vault-password.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        assert (check_file(path) == []) is ok, (site, text)


def test_the_shipped_inventories_pass(capsys):
    assert main([str(REPO / "inventories")]) == 0
    assert capsys.readouterr().out == ""


def test_main_names_the_file_and_fails(tmp_path, capsys):
    bad = tmp_path / "inventories" / "lab" / "group_vars" / "all" / "wifi.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(f"---\nwireless__psk: {PASSPHRASE}\n")
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:2: wireless__psk: plaintext secret" in out
    assert PASSPHRASE not in out


# --- the hooks, as `make lint` runs them --------------------------------------------------------

def _lint_files(repo: Path) -> list[str]:
    """The files `make lint` hands to pre-commit: tracked or not yet added, not ignored."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=repo, check=True, capture_output=True, text=True).stdout
    return [f for f in out.split("\0") if f]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A git repository holding a copy of every file `make lint` sees, and the repo's .venv."""
    if not (VENV_BIN / "pre-commit").exists():
        pytest.skip("pre-commit is not installed in .venv (make deps)")
    copy = tmp_path_factory.mktemp("lint-tree")
    for name in _lint_files(REPO):
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    (copy / ".venv").symlink_to(REPO / ".venv")
    with open(copy / ".git" / "info" / "exclude", "a") as exclude:
        exclude.write(".venv\n")
    subprocess.run(["git", "add", "-A"], cwd=copy, check=True)
    return copy


@pytest.fixture
def work(tree, tmp_path) -> Path:
    """A copy of ``tree`` (git index included) for one test to spoil."""
    copy = tmp_path / "repo"
    shutil.copytree(tree, copy, symlinks=True)
    return copy


def pre_commit(repo: Path, hook: str, files: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(repo.parent / f"{repo.name}-pre-commit-home"),
               PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", NO_COLOR="1")
    return subprocess.run([str(VENV_BIN / "pre-commit"), "run", "--color", "never", hook,
                           "--files", *files], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_shipped_tree_passes_both_secret_hooks(tree):
    files = _lint_files(tree)
    for hook in ("detect-secrets", "plaintext-secrets"):
        run = pre_commit(tree, hook, files)
        assert run.returncode == 0, run.stdout + run.stderr
    # The baseline is still the reviewed one: the hook did not have to rewrite it.
    assert (tree / ".secrets.baseline").read_bytes() == (REPO / ".secrets.baseline").read_bytes()


def test_a_plaintext_passphrase_in_group_vars_fails_lint(work):
    # Appended to a file git already tracks, and written to a new one not yet added: `make lint`
    # sees both.
    tracked = "inventories/lab/group_vars/branch_main/branch.yml"
    with open(work / tracked, "a") as f:
        f.write(f'wireless__main_psk: "{PASSPHRASE}"\n')
    new = "inventories/lab/group_vars/wireless_aps/guest.yml"
    (work / new).parent.mkdir(parents=True, exist_ok=True)
    (work / new).write_text(f"---\nwireless__guest:\n  passphrase: {PASSPHRASE}\n")
    run = pre_commit(work, "plaintext-secrets", _lint_files(work))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{tracked}:" in run.stdout and "wireless__main_psk" in run.stdout
    assert f"{new}:3: passphrase" in run.stdout
    assert PASSPHRASE not in run.stdout + run.stderr


def test_a_plaintext_password_fails_both_secret_hooks(work):
    target = "inventories/lab/group_vars/staff_machines/staff_workstation.yml"
    with open(work / target, "a") as f:
        f.write(f'staff_workstation__ad_join_password: "{PASSWORD}"\n')
    for hook in ("detect-secrets", "plaintext-secrets"):
        run = pre_commit(work, hook, [target])
        assert run.returncode == 1, (hook, run.stdout + run.stderr)
        assert target in run.stdout, (hook, run.stdout)


def test_a_site_vault_password_file_fails_lint(work):
    site = work / "inventories" / "riverton"
    site.mkdir()
    (site / "vault-password.txt").write_text("a-real-vault-password\n")
    run = pre_commit(work, "plaintext-secrets", ["inventories/riverton/vault-password.txt"])
    assert run.returncode == 1, run.stdout + run.stderr
    assert "inventories/riverton/vault-password.txt:1" in run.stdout


def test_ansible_connection_passwords_are_secret_names():
    text = "---\nansible_become_pass: ordinary-words-7\nansible_ssh_pass: ordinary-words-7\n"
    assert keys(text) == [(2, "ansible_become_pass"), (3, "ansible_ssh_pass")]
    assert keys("---\nbypass: ordinary-words-7\n") == []
