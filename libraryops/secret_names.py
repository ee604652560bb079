"""What a secret variable is, by its name: the one definition ``make lint``, ``make validate``,
the log redaction and the test suites' masking all use.

A variable (or a key inside one) holds a secret when its name contains ``password``,
``passphrase``, ``psk``, ``secret`` or ``token``, or ends in ``pass`` as a word of its own
(``ansible_become_pass``, ``ansible_ssh_pass``; not ``bypass``), in any letter case -- unless the
name ends in ``_file``, ``_path`` or ``_dir`` (that value is where a secret lives, not the secret:
``vault_password_file``) or in ``_authentication`` (whether a kind of login is allowed, as sshd's
``PasswordAuthentication``: ``sshd__password_authentication``). Everything below a secret's key is
secret too.
"""

from __future__ import annotations

import re

#: Names whose values are secrets (see the module docstring).
SECRET_NAME = re.compile(r"password|passphrase|psk|secret|token|(?:^|_)pass$", re.IGNORECASE)
#: Names of a secret's location, or of a switch about one, rather than the secret itself.
LOCATION_NAME = re.compile(r"_(file|path|dir|authentication)$", re.IGNORECASE)


def is_secret_name(name: object) -> bool:
    """Whether a variable or key named ``name`` (any value; compared as ``str``) holds a secret."""
    text = str(name)
    return bool(SECRET_NAME.search(text)) and not LOCATION_NAME.search(text)
