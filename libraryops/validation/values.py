"""Value types of ``make validate`` shared by several concerns: SSH keys and key files, Linux user
names, host addresses, URLs, networks, and the lab's rule that every outside service is local.

Each is a pydantic ``AfterValidator`` that raises :func:`libraryops.problem.fail` (never
repeating the value). In the lab site (hosts that carry ``lab__bridge_address``) every outside
service (NTP servers, printers, the AD domain) must be on the bridge's subnet or a name under
``.invalid``, so that nothing a lab host is told to contact ever leaves the machine.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from libraryops.validation.base import fail

#: OpenSSH public key types accepted for management accounts.
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
#: Smallest RSA modulus accepted, in bits.
RSA_MIN_BITS = 2048
_LINUX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def key_blob(line: str) -> bytes | None:
    """The key data of an OpenSSH public key line (``type base64 [comment]``, sshd(8)
    AUTHORIZED_KEYS FILE FORMAT without options), or None when the line is not one."""
    fields = line.split()
    if len(fields) < 2:
        return None
    try:
        return base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        return None


def check_public_key(line: str) -> str:
    """Check one OpenSSH public key line ``<type> <base64 key data> [comment]``.

    The type must be one of :data:`SSH_KEY_TYPES`, the key data valid base64 whose embedded type
    string is the declared type, and an RSA modulus at least :data:`RSA_MIN_BITS` bits.

    Returns:
        ``line`` unchanged.

    Raises:
        pydantic_core.PydanticCustomError: the first thing wrong with the line.
    """
    fields = line.split()
    if len(fields) < 2:
        raise fail("ssh_key", "not an OpenSSH public key line (<type> <key data> [comment])")
    declared = fields[0]
    if declared not in SSH_KEY_TYPES:
        raise fail("ssh_key", f"key type {declared!r} not accepted")
    blob = key_blob(line)
    if blob is None:
        raise fail("ssh_key", "key data is not base64")
    strings = _ssh_strings(blob)
    embedded = next(strings, b"")
    if embedded != declared.encode():
        says = embedded[:40].decode(errors="replace")
        raise fail("ssh_key", f"key data is not a {declared} key (it says {says!r})")
    if declared == "ssh-rsa":
        next(strings, b"")  # the public exponent
        bits = int.from_bytes(next(strings, b""), "big").bit_length()
        if bits < RSA_MIN_BITS:
            raise fail("ssh_key", f"RSA key of {bits} bits",
                        allowed=f"RSA keys of at least {RSA_MIN_BITS} bits, or ssh-ed25519")
    return line


def _ssh_strings(blob: bytes) -> Iterator[bytes]:
    """The length-prefixed strings of an SSH wire-format blob (RFC 4251 ``string``)."""
    offset = 0
    while offset + 4 <= len(blob):
        length = int.from_bytes(blob[offset:offset + 4], "big")
        offset += 4
        if offset + length > len(blob):
            raise fail("ssh_key", "key data is truncated")
        yield blob[offset:offset + length]
        offset += length


def _key_file(value: str, info: ValidationInfo) -> str:
    """An ``ssh_key_files`` entry: an absolute path to a file of public key lines.

    A missing file under the host's ``lab__state_dir`` is the lab's key, made by ``make lab-up``.
    """
    path = Path(value)
    if not path.is_absolute():
        raise fail("key_file", "relative path",
                    allowed="an absolute path (the accounts role's file lookup does not search "
                            "the inventory directory)")
    if not path.is_file():
        lab_dir = (info.context or {}).get("lab__state_dir")
        hint = ("; run `make lab-up` (or `make lab-keys`) first"
                if lab_dir and path.is_relative_to(lab_dir) else "")
        raise fail("key_file", f"{path}: no such file{hint}",
                    allowed="an existing file holding OpenSSH public keys")
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError as exc:
        raise fail("key_file", f"{path}: cannot read ({exc.strerror})") from None
    if not lines:
        raise fail("key_file", f"{path}: empty")
    for number, line in enumerate(lines, 1):
        try:
            check_public_key(line)
        except PydanticCustomError as exc:
            raise fail("key_file", f"{path} line {number}: {exc.message()}") from None
    return value


def _linux_user(value: str) -> str:
    """A Linux login name other than root."""
    if not _LINUX_USER.fullmatch(value):
        raise fail("user_name", "not a Linux user name")
    if value == "root":
        raise fail("user_name", "root is not allowed here")
    return value


def address(value: str) -> str:
    """An IP address or a DNS host name (RFC 1123 labels; not all-numeric)."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if (len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels)
            or labels[-1].isdigit()):
        raise fail("address", "neither an IP address nor a host name")
    return value




def _url_with_scheme(value: str, schemes: tuple[str, ...], what: str) -> str:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - the port is parsed (and refused) on access
    except ValueError:
        raise fail("url", "not a URL: bad port") from None
    if parts.scheme not in schemes or not parts.hostname or value != value.strip():
        raise fail("url", f"not an {what} URL with a host")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise fail("url", f"not an {what} URL: it contains a space or control character "
                           "(percent-encode a space as %20)")
    return value


def http_url(value: str) -> str:
    """An absolute http(s) URL with a host."""
    return _url_with_scheme(value, ("http", "https"), "http(s)")


def ipp_uri(value: str) -> str:
    """An ipp:// or ipps:// printer URI with a host (RFC 8010, RFC 7472)."""
    return _url_with_scheme(value, ("ipp", "ipps"), "ipp(s)")


LinuxUserName = Annotated[str, Field(strict=True), AfterValidator(_linux_user)]
SshPublicKey = Annotated[str, Field(strict=True), AfterValidator(check_public_key)]
SshKeyFile = Annotated[str, Field(strict=True), AfterValidator(_key_file)]
NonEmptyText = Annotated[str, Field(strict=True, min_length=1)]

_KEY_TYPES_TEXT = ", ".join(SSH_KEY_TYPES)



def lab_local(host: str, info: ValidationInfo) -> str:
    """In the lab, ``host`` must be on the bridge's subnet or under ``.invalid``."""
    bridge = (info.context or {}).get("lab__bridge_address")
    if not bridge or host.rstrip(".").endswith(".invalid"):
        return host
    network = ipaddress.ip_interface(str(bridge)).network
    try:
        inside = ipaddress.ip_address(host) in network
    except ValueError:
        inside = False
    if not inside:
        raise fail("lab_outside", "in the lab, not on the bridge and not under .invalid",
                    allowed=f"an address in {network} or a name under .invalid")
    return host


def _server(value: str, info: ValidationInfo) -> str:
    return lab_local(address(value), info)


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise fail("network", "not a network address") from None


Server = Annotated[str, Field(strict=True), AfterValidator(_server)]
Network = Annotated[str, Field(strict=True), AfterValidator(_network)]
