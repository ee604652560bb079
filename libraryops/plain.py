"""Plain Python data from what Ansible hands a filter plugin.

Ansible 2.19 passes filters lazy templating containers: Python-level iteration resolves their
items, but C-level iteration (pydantic's validation, ``json``) may see unresolved ones. The
filter plugins (``plugins/filter/``, ``roles/firewall/filter_plugins/``) convert their inputs
with :func:`plain` before any libraryops code sees them.
"""

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as plain dicts (string keys), lists and ``str``; other scalars unchanged.

    Mappings become dicts, lists and tuples become lists, recursively; ``str`` subclasses
    (Ansible's tagged strings) become ``str``.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value) if isinstance(value, str) else value
