"""Lint hook: no plaintext secret in an inventory (``make lint``; pre-commit ``plaintext-secrets``).

detect-secrets guesses secrets from entropy and a few keywords; a Wi-Fi passphrase such as
``correct horse battery staple`` passes its heuristics. This check goes by the variable's name
instead — :func:`libraryops.secret_names.is_secret_name`, the names ``make validate`` refuses in
plain text and ``libraryops.redact`` masks in logs (``*password*``, ``*passphrase*``, ``*psk*``,
``*secret*``, ``*token*``, ``*_pass``), and everything below such a key. Their values must be an
inline ``!vault`` value, or sit in a vault-encrypted file, or not be a secret at all: a boolean,
number, null or empty string, ``yes``/``no``, a Jinja expression over other variables with no
quoted literal in it (``{{ vault_x }}``, ``{{ x | default({}) }}``), or a line marked
``# pragma: allowlist secret`` (detect-secrets' marker, for a reviewed exception).

A vault password file (``vault-password*``, ``vault_pass*``) is allowed only in the lab and
example sites, holding their documented test password ``libraryops-<site>-not-secret``; a real
site keeps its own outside the clone (``ANSIBLE_VAULT_PASSWORD_FILE``).

Usage: ``python -m libraryops.lint_secrets PATH...`` (files or directories). Prints one
``file:line: key: problem`` per finding and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

from libraryops.secret_names import is_secret_name

VAULT_PASSWORD_FILE = re.compile(r"^\.?vault[-_.]?pass", re.IGNORECASE)
# A whole-value Jinja expression over other variables ({{ vault_x }}, {{ x | default({}) }}); one
# with a quoted literal inside could hide a secret, so it does not count.
JINJA_REFERENCE = re.compile(r"\{\{[^'\"{}]*(\{\}[^'\"{}]*)*\}\}")
ALLOWLIST = "pragma: allowlist secret"
NOT_SECRET_WORDS = {"yes", "no", "true", "false", "on", "off"}
PLAIN_DATA_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "null")}
TEST_SITES = ("lab", "example")
YAML_SUFFIXES = (".yml", ".yaml")


def _plaintext(node: yaml.ScalarNode) -> bool:
    if node.tag == "!vault" or node.tag in PLAIN_DATA_TAGS:
        return False
    value = node.value.strip()
    return not (value == "" or value.lower() in NOT_SECRET_WORDS
                or JINJA_REFERENCE.fullmatch(value))


def _walk(node: yaml.Node, key: str | None) -> Iterator[tuple[int, str]]:
    """(line, key) of every plaintext scalar below a secret-named key."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
            if is_secret_name(name):
                yield from _walk(value_node, name)
            else:
                yield from _walk(value_node, key)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, key)
    elif isinstance(node, yaml.ScalarNode) and key is not None and _plaintext(node):
        yield node.start_mark.line + 1, key


def check_yaml(text: str) -> list[tuple[int, str, str]]:
    """Findings (line, key, problem) in one YAML document stream."""
    if text.lstrip().startswith("$ANSIBLE_VAULT;"):
        return []
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [((mark.line + 1) if mark else 1, "-", "not valid YAML, so it cannot be checked")]
    lines = text.splitlines()
    found = []
    for document in documents:
        if document is None:
            continue
        for line, key in _walk(document, None):
            if ALLOWLIST not in lines[line - 1]:
                found.append((line, key, "plaintext secret: encrypt it (ansible-vault "
                                         "encrypt_string, then paste the !vault value)"))
    return found


def check_vault_password_file(path: Path, text: str) -> list[tuple[int, str, str]]:
    """A committed vault password file is allowed only as a test site's documented one."""
    parts = path.parts
    at = [i for i, part in enumerate(parts[:-2]) if part == "inventories"]
    site = parts[at[-1] + 1] if at else None
    if site in TEST_SITES and text.strip() == f"libraryops-{site}-not-secret":
        return []
    return [(1, "-", "vault password file in the clone: keep a real site's vault password "
                     "outside it and point ANSIBLE_VAULT_PASSWORD_FILE at it (only the lab and "
                     "example sites ship their documented test passwords)")]


def _files(paths: Iterable[str]) -> Iterator[Path]:
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def check_file(path: Path) -> list[tuple[int, str, str]]:
    """Findings in one file (nothing for files that are neither YAML nor vault password files)."""
    if VAULT_PASSWORD_FILE.match(path.name):
        return check_vault_password_file(path, path.read_text(errors="replace"))
    if path.suffix in YAML_SUFFIXES:
        return check_yaml(path.read_text(errors="replace"))
    return []


def main(argv: list[str] | None = None) -> int:
    """Check every file named (directories: recursively); 1 if any finding, else 0."""
    args = sys.argv[1:] if argv is None else argv
    failed = False
    for path in _files(args):
        for line, key, problem in check_file(path):
            print(f"{path}:{line}: {key}: {problem}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
