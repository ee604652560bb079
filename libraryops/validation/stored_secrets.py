"""Secrets stored in plain text: the files as written, before anything is decrypted.

A secret (``wireless__secrets``, a secret key inside a network, any variable with a secret's name:
:func:`libraryops.secret_names.is_secret_name`) must sit in a vault-encrypted file or be an inline
``!vault`` value. No message ever contains the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from libraryops.secret_names import is_secret_name
from libraryops.validation.base import Problem, Site, display_path
from libraryops.wireless import SECRET_KEYS, SECRETS_VAR

STORE_IN_VAULT = ("a vault-encrypted file (ansible-vault encrypt group_vars/all/"
                   "wireless_vault.yml) or an inline !vault value")




def _is_vault_file(file: Path) -> bool:
    try:
        with file.open("rb") as handle:
            return handle.read(14) == b"$ANSIBLE_VAULT"
    except OSError:
        return False


def _encrypted(value: Any) -> bool:
    """An inline ``!vault`` value (Ansible 2.19's EncryptedString; older AnsibleVault...)."""
    return type(value).__name__ in ("EncryptedString", "AnsibleVaultEncryptedUnicode")


def _plain_leaves(value: Any, path: str) -> Iterator[str]:
    """Dotted paths of non-empty plain-text strings inside ``value``."""
    if _encrypted(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _plain_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _plain_leaves(item, f"{path}[{index}]")
    elif isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
        yield path


def check_secrets_stored(site: Site) -> Iterator[Problem]:
    """No secret in plain text outside a vault-encrypted file (see the module doc)."""
    for file, doc in site.files.documents.items():
        if file == site.files.hosts_file or not isinstance(doc, dict) or _is_vault_file(file):
            continue
        where = display_path(file)
        for var, value in doc.items():
            var = str(var)
            if var == SECRETS_VAR or is_secret_name(var):
                for path in _plain_leaves(value, var):
                    yield Problem(where, path, "a secret stored unencrypted outside a vault file",
                                  STORE_IN_VAULT)
            elif var == "wireless__networks" and isinstance(value, list):
                for index, entry in enumerate(value):
                    for key in (k for k in (entry if isinstance(entry, dict) else {})
                                if str(k) in SECRET_KEYS):
                        path = f"{var}[{index}].{key}"
                        if _encrypted(entry[key]):
                            yield Problem(where, path, "a secret inside a network",
                                          f"secrets in {SECRETS_VAR}.<name> ({STORE_IN_VAULT})")
                        else:
                            yield Problem(where, path,
                                          "a secret stored unencrypted outside a vault file",
                                          f"{SECRETS_VAR}.<name> in {STORE_IN_VAULT}")
