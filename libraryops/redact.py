"""Secrets never reach a log: the values to hide, and the redaction of text that may hold them.

A value is secret when it came out of Ansible Vault (inline ``!vault`` values; the adapter
decrypts them) or when its variable's or key's name says so
(:func:`libraryops.secret_names.is_secret_name`) — values from vault-encrypted files arrive
already decrypted, so the name is what marks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from libraryops.inventory import SiteInventory
from libraryops.secret_names import is_secret_name

#: What a secret is replaced with.
MASK = "********"
#: Shorter strings are not redacted: they would mask ordinary words (a PSK is 8+ characters).
MIN_SECRET_LENGTH = 6


def _walk(value: Any, secret: bool, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, secret or is_secret_name(key), found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, secret, found)
    elif secret and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        found.add(value)


def secret_values(inventory: SiteInventory) -> set[str]:
    """Every secret string of a site: values under secret-named keys, and vault plaintexts."""
    found: set[str] = set(inventory.vault_plaintexts)
    for hostvars in inventory.hosts.values():
        _walk(hostvars, False, found)
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by :data:`MASK` (longest first,
    so a secret containing another is masked whole)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
