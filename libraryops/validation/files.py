"""The site's inventory files parsed one by one, before Ansible merges them.

Every file (``hosts.yml``, ``group_vars/``, ``host_vars/``) is read with Ansible's own YAML loader,
so a syntax error or a duplicate key names its file, line and column; the definitions found are
recorded per host and group (:class:`libraryops.validation.base.SiteFiles`) so that every
problem can name the file that defines a variable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from libraryops import paths
from libraryops.inventory import vault_lib
from libraryops.problem import parse_problem
from libraryops.validation.base import Problem, SiteFiles, display_path, mapping

#: Extensions Ansible's host_group_vars plugin reads ("" = no extension).
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")


def group_entries(doc: Any) -> Iterator[tuple[str, str | None, dict, str]]:
    """Every group entry of a YAML inventory: (group, parent group, entry, dotted path)."""

    def walk(groups: Any, parent: str | None, prefix: str, seen: frozenset[str]):
        if not isinstance(groups, dict):
            return
        for name, entry in groups.items():
            name = str(name)
            entry = entry if isinstance(entry, dict) else {}
            yield name, parent, entry, prefix + name
            if name not in seen:
                yield from walk(entry.get("children"), name, f"{prefix}{name}.children.",
                                seen | {name})

    yield from walk(doc, None, "", frozenset())


def _vars_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """(host or group name, file) for every vars file under group_vars/ or host_vars/.

    Mirrors Ansible's host_group_vars plugin: ``<name>.yml`` (or .yaml/.json/no extension) and
    every such file under ``<name>/``, in sorted order (a later file wins).
    """
    def readable(path: Path) -> bool:
        return path.is_file() and path.suffix in VARS_EXTENSIONS and not path.name.startswith(".")

    if not directory.is_dir():
        return
    for entry in sorted(directory.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            yield from ((entry.name, file) for file in sorted(entry.rglob("*")) if readable(file))
        elif readable(entry):
            yield entry.stem, entry


def _loader(vault):
    """Ansible's DataLoader, able to open vault-encrypted files with ``vault``'s secrets (the
    site's password: the same secrets the adapter decrypts with)."""
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    loader.set_vault_secrets(vault.secrets)
    return loader


def _vault_problem(site: Path, file: Path, key: str) -> Problem:
    """An encrypted file or inline ``!vault`` value the site's vault password does not open.

    Names the file, the key (``file`` for a whole encrypted file) and the password file that was
    tried (:func:`libraryops.paths.vault_password_file`), never the ciphertext: Ansible's own
    messages say neither which file nor which password.
    """
    password_file = paths.vault_password_file(site)
    if password_file is None:
        return Problem(display_path(file), key,
                       "vault-encrypted, but the site has no vault password file",
                       f"{display_path(site / 'vault-password.txt')} or "
                       "ANSIBLE_VAULT_PASSWORD_FILE naming the file that holds the site's password")
    return Problem(display_path(file), key, "vault-encrypted, but the vault password in "
                   f"{display_path(password_file)} does not open it (another password, or the "
                   "ciphertext is damaged)", "encrypted with the site's vault password "
                   "(ansible-vault encrypt / encrypt_string)")


def _undecryptable(value: Any, vault, path: str) -> Iterator[str]:
    """Dotted paths of the inline ``!vault`` values inside ``value`` that ``vault`` (a
    :class:`ansible.parsing.vault.VaultLib`) cannot decrypt."""
    from ansible.parsing.vault import VaultHelper

    ciphertext = VaultHelper.get_ciphertext(value, with_tags=False)
    if ciphertext is not None:
        try:
            vault.decrypt(ciphertext)
        except Exception:  # AnsibleError subclasses, binascii errors; never echo the ciphertext
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _undecryptable(item, vault, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _undecryptable(item, vault, f"{path}[{index}]")


def _parse_problem(file: Path, exc: Exception) -> Problem:
    """A loader error as a Problem: the YAML parser's own position and words when it has them
    (:func:`libraryops.problem.parse_problem`, never a snippet of the file), else the first line
    of Ansible's message (the rest quotes the file)."""
    cause = exc.__cause__
    if getattr(cause, "problem_mark", None) is not None:
        return parse_problem(display_path(file), cause)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Problem(display_path(file), "file", " ".join(first.split()))


def parse_site(site: Path) -> tuple[SiteFiles, list[Problem]]:
    """Parse every inventory file of ``site`` on its own.

    Returns:
        The parsed files, and the problems found reading them: missing hosts.yml, YAML syntax
        errors and duplicate keys (which Ansible only warns about: the last one silently wins),
        with line and column, undecryptable files, a hosts.yml or vars file that is not a
        mapping.
    """
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import AnsibleVaultError

    files = SiteFiles(path=site)
    if not files.hosts_file.is_file():
        return files, [Problem(display_path(files.hosts_file), "file", "missing",
                               "a site directory holds hosts.yml")]
    vault = vault_lib(paths.vault_password_file(site))
    loader = _loader(vault)
    problems = []
    sources = [("", files.hosts_file)]
    sources += [(f"group:{name}", file) for name, file in _vars_files(site / "group_vars")]
    sources += [(f"host:{name}", file) for name, file in _vars_files(site / "host_vars")]
    # ansible.cfg sets duplicate_dict_key = error, so a duplicate key fails here too.
    for scope, file in sources:
        try:
            doc = loader.load_from_file(str(file), cache="none")
        except AnsibleVaultError:
            problems.append(_vault_problem(site, file, "file"))
            continue
        except AnsibleError as exc:
            problems.append(_parse_problem(file, exc))
            continue
        files.documents[file] = doc
        problems += [_vault_problem(site, file, key) for key in _undecryptable(doc, vault, "")]
        if not scope and not isinstance(doc, dict):
            problems.append(Problem(display_path(file), "file", "not a mapping",
                                    "a mapping of group names to {hosts, children, vars}, "
                                    "starting with all:"))
        elif scope and doc is not None and not isinstance(doc, dict):
            problems.append(Problem(display_path(file), "file", "not a mapping",
                                    "a mapping of variable names to values"))
    # Definitions, lowest precedence first: hosts.yml's, then group_vars/ and host_vars/ files.
    for group, parent, entry, _ in group_entries(files.documents.get(files.hosts_file)):
        if group != "all":
            files.depth[group] = max(files.depth.get(group, 1), files.depth.get(parent, 0) + 1)
        files.define(f"group:{group}", files.hosts_file, mapping(entry.get("vars")))
        for host, host_vars in mapping(entry.get("hosts")).items():
            files.define(f"host:{host}", files.hosts_file, mapping(host_vars))
    for scope, file in sources[1:]:
        files.define(scope, file, mapping(files.documents.get(file)))
    return files, problems
