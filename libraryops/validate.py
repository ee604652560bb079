"""Validate a whole site before any engine runs: ``python -m libraryops.validate <site-dir>``.

Every inventory file (``hosts.yml``, ``group_vars/``, ``host_vars/``) is parsed first with
Ansible's own YAML loader, so a syntax error names its file, line and column. Then the merged
view comes from the inventory adapter (:func:`libraryops.inventory.load_site`) and each concern
(hosts, branches, management accounts, public PCs) is checked by its own pydantic model. Every
problem is printed, one per line::

    file: key: problem (allowed: ...)

``file`` is the YAML file that defines the offending key (for a missing key: the file where it
belongs), ``key`` a dotted path inside it (``accounts__management_users[0].ssh_keys[1]``,
``hosts.main-pub-01``). Messages never repeat a variable's value: it may have been vaulted.
Nothing is contacted: Ansible only reads files here.

New concerns (hours, wireless, Azure) add a model and a checker to :data:`CHECKS`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import difflib
import ipaddress
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from libraryops import paths, validate_baseline, validate_wireless
from libraryops.cloud import spec as azure_spec
from libraryops.hours import iana_time_zone as _time_zone
from libraryops.inventory import (
    BRANCH_GROUP,
    BRANCH_PREFIX,
    FUNCTION_GROUPS,
    InventoryError,
    SiteInventory,
    load_site,
    vault_lib,
)
from libraryops.validate_hours import check_calendar, check_hours

#: Host variables that hosts.yml may carry; everything else lives in group_vars/host_vars.
CONNECTION_KEYS = ("ansible_host", "ansible_port")
#: Keys of a group entry in a YAML inventory.
GROUP_ENTRY_KEYS = ("hosts", "children", "vars")
#: ``branch_<slug>``.
#: Extensions Ansible's host_group_vars plugin reads ("" = no extension).
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
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


@dataclass(frozen=True)
class Problem:
    """One problem: ``file: key: problem (allowed: ...)`` (the parenthesis only when known), or
    a warning: ``file: key: warning: problem ...``, which is printed but does not fail.

    Attributes:
        file: the file as printed (relative to the repository when inside it).
        key: dotted path inside the file, or ``line L, column C`` for a YAML syntax error.
        problem: what is wrong, without the offending value.
        allowed: what would be accepted ("" when the problem has no such set).
        warning: True for something that works today but will go wrong (e.g. closure dates
            running out); ``make validate`` still exits 0.
    """

    file: str
    key: str
    problem: str
    allowed: str = ""
    warning: bool = False

    def __str__(self) -> str:
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        kind = "warning: " if self.warning else ""
        return f"{self.file}: {self.key}: {kind}{self.problem}{allowed}"


def display_path(path: Path) -> str:
    """``path`` relative to the repository root when inside it, else absolute."""
    path = path.absolute()
    return str(path.relative_to(paths.REPO)) if path.is_relative_to(paths.REPO) else str(path)


# ---------------------------------------------------------------------------------------------
# The site's files, parsed one by one


@dataclass
class SiteFiles:
    """The inventory files of a site as written, before Ansible merges them.

    Attributes:
        path: the site directory.
        documents: file -> parsed YAML (``!vault`` values stay encrypted), in the order Ansible
            loads them within a directory.
        scopes: ``host:<name>`` / ``group:<name>`` -> the files defining variables for it,
            lowest precedence first, with the variable names each defines.
        depth: group -> depth below ``all`` (``all`` = 0), as nested in hosts.yml.
    """

    path: Path
    documents: dict[Path, Any] = field(default_factory=dict)
    scopes: dict[str, list[tuple[Path, frozenset[str]]]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=lambda: {"all": 0})

    @property
    def hosts_file(self) -> Path:
        """The site's ``hosts.yml``."""
        return self.path / "hosts.yml"

    def define(self, scope: str, file: Path, names: Iterable[str]) -> None:
        """Record that ``file`` defines ``names`` for ``scope`` (later calls take precedence)."""
        self.scopes.setdefault(scope, []).append((file, frozenset(map(str, names))))


def _group_entries(doc: Any) -> Iterator[tuple[str, str | None, dict, str]]:
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


def _mapping(value: Any) -> dict:
    """``value`` if it is a mapping, else an empty one (Ansible reports the wrong shape)."""
    return value if isinstance(value, dict) else {}


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


def _loader(site: Path):
    """Ansible's DataLoader, able to open vault-encrypted files with the site's password (the
    same secrets the adapter decrypts with)."""
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    loader.set_vault_secrets(vault_lib(paths.vault_password_file(site)).secrets)
    return loader


def _parse_problem(file: Path, exc: Exception) -> Problem:
    """A loader error as a Problem: the YAML parser's own position and words when it has them."""
    cause = exc.__cause__
    mark = getattr(cause, "problem_mark", None)
    if mark is None:
        return Problem(display_path(file), "file", " ".join(str(exc).split()))
    words = " ".join(w for w in (getattr(cause, "problem", ""), getattr(cause, "context", "")) if w)
    return Problem(display_path(file), f"line {mark.line + 1}, column {mark.column + 1}", words)


def parse_site(site: Path) -> tuple[SiteFiles, list[Problem]]:
    """Parse every inventory file of ``site`` on its own.

    Returns:
        The parsed files, and the problems found reading them: missing hosts.yml, YAML syntax
        errors and duplicate keys (which Ansible only warns about: the last one silently wins),
        with line and column, undecryptable files, a vars file that is not a mapping.
    """
    from ansible.errors import AnsibleError

    files = SiteFiles(path=site)
    if not files.hosts_file.is_file():
        return files, [Problem(display_path(files.hosts_file), "file", "missing",
                               "a site directory holds hosts.yml")]
    loader = _loader(site)
    problems = []
    sources = [("", files.hosts_file)]
    sources += [(f"group:{name}", file) for name, file in _vars_files(site / "group_vars")]
    sources += [(f"host:{name}", file) for name, file in _vars_files(site / "host_vars")]
    # ansible.cfg sets duplicate_dict_key = error, so a duplicate key fails here too.
    for scope, file in sources:
        try:
            doc = loader.load_from_file(str(file), cache="none")
        except AnsibleError as exc:
            problems.append(_parse_problem(file, exc))
            continue
        files.documents[file] = doc
        if scope and doc is not None and not isinstance(doc, dict):
            problems.append(Problem(display_path(file), "file", "not a mapping",
                                    "a mapping of variable names to values"))
    # Definitions, lowest precedence first: hosts.yml's, then group_vars/ and host_vars/ files.
    for group, parent, entry, _ in _group_entries(files.documents.get(files.hosts_file)):
        if group != "all":
            files.depth[group] = max(files.depth.get(group, 1), files.depth.get(parent, 0) + 1)
        files.define(f"group:{group}", files.hosts_file, _mapping(entry.get("vars")))
        for host, host_vars in _mapping(entry.get("hosts")).items():
            files.define(f"host:{host}", files.hosts_file, _mapping(host_vars))
    for scope, file in sources[1:]:
        files.define(scope, file, _mapping(files.documents.get(file)))
    return files, problems


# ---------------------------------------------------------------------------------------------
# The merged site, and mapping pydantic errors to problems


@dataclass
class Site:
    """A parsed and merged site: what every checker in :data:`CHECKS` receives.

    Attributes:
        files: the files as written (:class:`SiteFiles`).
        inventory: the merged view from the adapter (:class:`SiteInventory`).
    """

    files: SiteFiles
    inventory: SiteInventory

    def source(self, var: str, host: str) -> Path | None:
        """The file whose definition of ``var`` wins for ``host``, or None when none defines it.

        Precedence as Ansible's: host_vars and hosts.yml host entries, then groups from the
        deepest to ``all`` (ties by name, later wins), a later file in a directory first.
        """
        groups = sorted(self.inventory.groups_of(host),
                        key=lambda g: (self.files.depth.get(g, 1), g), reverse=True)
        for scope in [f"host:{host}"] + [f"group:{g}" for g in groups] + ["group:all"]:
            for file, names in reversed(self.files.scopes.get(scope, [])):
                if var in names:
                    return file
        return None

    def model_problems(self, model: type[BaseModel], hosts: Iterable[str],
                       expected: Path) -> Iterator[Problem]:
        """Validate each host's merged variables with ``model``; a key of the model that is
        present with an empty value (YAML null) is a problem too, not a fallback to the default.

        The host's variables are also the validation context (validators that need a sibling
        variable, e.g. ``lab__state_dir``, read it there). A problem names the file that defines
        the variable, or ``expected`` when no file does; keys in hosts.yml are prefixed with
        ``hosts.<host>.``.
        """
        for host in hosts:
            hostvars = self.inventory.hosts.get(host, {})
            for name, info in model.model_fields.items():
                if name in hostvars and hostvars[name] is None:
                    file = self.source(name, host) or expected
                    prefix = f"hosts.{host}." if file == self.files.hosts_file else ""
                    yield Problem(display_path(file), prefix + name,
                                  "no value (the key is there, its value empty)",
                                  info.description or "")
            try:
                model.model_validate(hostvars, context=hostvars)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    file = self.source(str(error["loc"][0]), host) or expected
                    prefix = f"hosts.{host}." if file == self.files.hosts_file else ""
                    yield Problem(display_path(file), prefix + dotted(error["loc"]),
                                  _message(error), _allowed(model, error))


def dotted(loc: Sequence[str | int]) -> str:
    """A pydantic location as a dotted path: ``('a', 0, 'b')`` -> ``a[0].b``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _message(error: dict) -> str:
    """The problem text of a pydantic error (never its input value)."""
    if error["type"] == "missing":
        return "missing"
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return error["msg"][:1].lower() + error["msg"][1:]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Model]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_inner_model, get_args(annotation))), None)


def _allowed(model: type[BaseModel], error: dict) -> str:
    """What is allowed where ``error`` is: the error's own ``allowed``, else the description of
    the field it is in, else (an unknown key) the fields of the model it is in."""
    if "allowed" in error.get("ctx", {}):
        return error["ctx"]["allowed"]
    description = ""
    current: type[BaseModel] | None = model
    for part in error["loc"]:
        if isinstance(part, int):
            continue
        if current is None:
            break
        if part not in current.model_fields:
            return ", ".join(current.model_fields)
        info = current.model_fields[part]
        description, current = info.description or "", _inner_model(info.annotation)
    return description


def _fail(kind: str, message: str, **context: str) -> PydanticCustomError:
    """A pydantic error with a fixed message; ``allowed=`` overrides the field's description."""
    return PydanticCustomError(kind, message, context)


# ---------------------------------------------------------------------------------------------
# Value types


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
        raise _fail("ssh_key", "not an OpenSSH public key line (<type> <key data> [comment])")
    declared = fields[0]
    if declared not in SSH_KEY_TYPES:
        raise _fail("ssh_key", f"key type {declared!r} not accepted")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error:
        raise _fail("ssh_key", "key data is not base64") from None
    strings = _ssh_strings(blob)
    embedded = next(strings, b"")
    if embedded != declared.encode():
        says = embedded[:40].decode(errors="replace")
        raise _fail("ssh_key", f"key data is not a {declared} key (it says {says!r})")
    if declared == "ssh-rsa":
        next(strings, b"")  # the public exponent
        bits = int.from_bytes(next(strings, b""), "big").bit_length()
        if bits < RSA_MIN_BITS:
            raise _fail("ssh_key", f"RSA key of {bits} bits",
                        allowed=f"RSA keys of at least {RSA_MIN_BITS} bits, or ssh-ed25519")
    return line


def _ssh_strings(blob: bytes) -> Iterator[bytes]:
    """The length-prefixed strings of an SSH wire-format blob (RFC 4251 ``string``)."""
    offset = 0
    while offset + 4 <= len(blob):
        length = int.from_bytes(blob[offset:offset + 4], "big")
        offset += 4
        if offset + length > len(blob):
            raise _fail("ssh_key", "key data is truncated")
        yield blob[offset:offset + length]
        offset += length


def _key_file(value: str, info: ValidationInfo) -> str:
    """An ``ssh_key_files`` entry: an absolute path to a file of public key lines.

    A missing file under the host's ``lab__state_dir`` is the lab's key, made by ``make lab-up``.
    """
    path = Path(value)
    if not path.is_absolute():
        raise _fail("key_file", "relative path",
                    allowed="an absolute path (the accounts role's file lookup does not search "
                            "the inventory directory)")
    if not path.is_file():
        lab_dir = (info.context or {}).get("lab__state_dir")
        hint = ("; run `make lab-up` (or `make lab-keys`) first"
                if lab_dir and path.is_relative_to(lab_dir) else "")
        raise _fail("key_file", f"{path}: no such file{hint}",
                    allowed="an existing file holding OpenSSH public keys")
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError as exc:
        raise _fail("key_file", f"{path}: cannot read ({exc.strerror})") from None
    if not lines:
        raise _fail("key_file", f"{path}: empty")
    for number, line in enumerate(lines, 1):
        try:
            check_public_key(line)
        except PydanticCustomError as exc:
            raise _fail("key_file", f"{path} line {number}: {exc.message()}") from None
    return value


def _linux_user(value: str) -> str:
    """A Linux login name other than root."""
    if not _LINUX_USER.fullmatch(value):
        raise _fail("user_name", "not a Linux user name")
    if value == "root":
        raise _fail("user_name", "root is not allowed here")
    return value


def _address(value: str) -> str:
    """An IP address or a DNS host name (RFC 1123 labels; not all-numeric)."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if (len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels)
            or labels[-1].isdigit()):
        raise _fail("address", "neither an IP address nor a host name")
    return value




def _url_with_scheme(value: str, schemes: tuple[str, ...], what: str) -> str:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - the port is parsed (and refused) on access
    except ValueError:
        raise _fail("url", "not a URL: bad port") from None
    if parts.scheme not in schemes or not parts.hostname or value != value.strip():
        raise _fail("url", f"not an {what} URL with a host")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise _fail("url", f"not an {what} URL: it contains a space or control character "
                           "(percent-encode a space as %20)")
    return value


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host."""
    return _url_with_scheme(value, ("http", "https"), "http(s)")


def _ipp_uri(value: str) -> str:
    """An ipp:// or ipps:// printer URI with a host (RFC 8010, RFC 7472)."""
    return _url_with_scheme(value, ("ipp", "ipps"), "ipp(s)")


LinuxUserName = Annotated[str, Field(strict=True), AfterValidator(_linux_user)]
SshPublicKey = Annotated[str, Field(strict=True), AfterValidator(check_public_key)]
SshKeyFile = Annotated[str, Field(strict=True), AfterValidator(_key_file)]
NonEmptyText = Annotated[str, Field(strict=True, min_length=1)]

_KEY_TYPES_TEXT = ", ".join(SSH_KEY_TYPES)


# ---------------------------------------------------------------------------------------------
# One model per concern. Models of host variables ignore the other variables; models of
# entries inside a variable refuse unknown keys (the roles' argument_specs would, later).


class HostModel(BaseModel):
    """How the engines reach a host: ``ansible_host`` (required) and ``ansible_port``."""

    ansible_host: Annotated[str, Field(strict=True), AfterValidator(_address)] = Field(
        description="an IP address or a host name")
    ansible_port: int | None = Field(None, ge=1, le=65535, description="a TCP port, 1-65535")


class ManagementUser(BaseModel):
    """One entry of ``accounts__management_users`` (role accounts).

    Needs at least one key: ``ssh_keys`` (public key lines) or ``ssh_key_files`` (absolute paths
    of files holding public key lines, which must exist now).
    """

    model_config = ConfigDict(extra="forbid")

    name: LinuxUserName = Field(description="a Linux user name ([a-z_][a-z0-9_-]*), not root")
    comment: str | None = Field(None, description="text (who the account belongs to)")
    ssh_keys: list[SshPublicKey] = Field([], description=f"OpenSSH public keys: {_KEY_TYPES_TEXT}")
    ssh_key_files: list[SshKeyFile] = Field(
        [], description=f"absolute paths of files holding OpenSSH public keys: {_KEY_TYPES_TEXT}")

    @model_validator(mode="after")
    def _some_key(self) -> ManagementUser:
        if not self.ssh_keys and not self.ssh_key_files:
            raise _fail("no_key", "no SSH key: the account could not log in",
                        allowed="ssh_keys and/or ssh_key_files, at least one key")
        return self


class AccountsModel(BaseModel):
    """``accounts__management_users``: at least one account, keeping the one engines log in as."""

    accounts__management_users: list[ManagementUser] = Field(
        min_length=1, description="a list of {name, comment, ssh_keys, ssh_key_files}, "
                                  "at least one account")

    @field_validator("accounts__management_users")
    @classmethod
    def _keeps_connecting_user(cls, value: list[ManagementUser],
                               info: ValidationInfo) -> list[ManagementUser]:
        user = (info.context or {}).get("ansible_user", "root")
        names = [entry.name for entry in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise _fail("twice", f"lists {', '.join(twice)} more than once: the accounts role "
                                 "would keep only the last entry's keys (a lockout)",
                        allowed="each account once, with all its keys")
        if user != "root" and user not in names:
            raise _fail("lockout", "does not list the account the engines connect as "
                                   "(ansible_user): converging would lock the manager out",
                        allowed=f"a list including {user}")
        return value


def _holiday_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code that the ``holidays`` package has public holidays for."""
    known = holidays.list_supported_countries()
    if len(value) != 2 or value not in known:
        raise _fail("country", "not an ISO 3166-1 alpha-2 code the holidays package knows",
                    allowed="a two-letter code such as US, CA, GB, DE, DK")
    return value


class BranchModel(BaseModel):
    """A branch's facts (``branch__*``), defined once in ``group_vars/branch_<slug>/``."""

    branch__name: NonEmptyText = Field(description="the branch's name, non-empty text")
    branch__timezone: Annotated[str, Field(strict=True), AfterValidator(_time_zone)] = Field(
        description="an IANA Area/Location name, e.g. America/New_York, or UTC")
    branch__catalog_url: Annotated[str, Field(strict=True), AfterValidator(_http_url)] = Field(
        description="an http:// or https:// URL with a host")
    branch__print_queue_uri: Annotated[str, Field(strict=True), AfterValidator(_ipp_uri)] = Field(
        description="an ipp:// or ipps:// URI of the branch's print-release station")
    branch__country: Annotated[str, Field(strict=True), AfterValidator(_holiday_country)] | None \
        = Field(None, description="an ISO 3166-1 alpha-2 country code the holidays package "
                                  "knows, e.g. US (for make closures)")
    branch__subdivision: Annotated[str, Field(strict=True)] | None = Field(
        None, description="a subdivision code of branch__country the holidays package knows, "
                          "e.g. NY (for make closures)")

    @field_validator("branch__subdivision")
    @classmethod
    def _known_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("branch__country")
        if value is None:
            return value
        if country is None:
            raise _fail("subdivision", "set without a valid branch__country",
                        allowed="branch__country set too, or no subdivision")
        known = holidays.list_supported_countries()[country]
        if value not in known:
            raise _fail("subdivision", f"not a subdivision of {country} the holidays package "
                                       "knows", allowed=", ".join(known) or "none: leave it out")
        return value


class PublicPcModel(BaseModel):
    """Public PC data read by the pyinfra deploys (``public_pc__*``)."""

    public_pc__patron_user: LinuxUserName | None = Field(
        None, description="a Linux user name ([a-z_][a-z0-9_-]*), not root")
    public_pc__patron_can_power_off: bool | None = Field(
        None, strict=True, description="true or false")
    public_pc__idle_logout_minutes: int | None = Field(
        None, strict=True, ge=1, le=480, description="whole minutes, 1-480")
    public_pc__idle_warning_seconds: int | None = Field(
        None, strict=True, ge=10, le=600, description="whole seconds, 10-600")
    public_pc__urgent_warning_seconds: int | None = Field(
        None, strict=True, ge=10, le=1800,
        description="whole seconds, 10-1800, a patron is warned before an urgent update ends "
                    "the session")
    public_pc__usb_storage: Literal["allowed", "blocked"] | None = Field(
        None, description="allowed or blocked")
    public_pc__print_queue_name: Annotated[str, Field(
        strict=True, pattern=r"^[A-Za-z0-9_-]{1,127}$")] | None = Field(
        None, description="a CUPS queue name: letters, digits, _ and -, at most 127")
    public_pc__browser_allow_urls: list[NonEmptyText] | None = Field(
        None, description="a list of Firefox WebsiteFilter match patterns")
    public_pc__browser_block_urls: list[NonEmptyText] | None = Field(
        None, description="a list of Firefox WebsiteFilter match patterns")
    public_pc__xserver_packages: list[NonEmptyText] | None = Field(
        None, description="a list of Debian package names")
    public_pc__xserver_command: str | None = Field(None, strict=True, description="text")
    public_pc__lab_no_vt: bool | None = Field(None, strict=True, description="true or false")
    public_pc__power_actions: Literal["act", "log"] | None = Field(
        None, description="act (power off and set the RTC wake alarm) or log (only log them)")

    @field_validator("public_pc__patron_user")
    @classmethod
    def _patron_is_not_a_manager(cls, user: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        managers = {str(entry.get("name")) for entry in context.get(
            "accounts__management_users") or [] if isinstance(entry, dict)}
        managers.add(str(context.get("ansible_user", "root")))
        if user in managers:
            raise _fail("manager", "a management account: its home would be wiped and its "
                                   "sessions ended at every patron logout",
                        allowed="a Linux user name of its own, e.g. patron")
        return user

    @field_validator("public_pc__idle_warning_seconds")
    @classmethod
    def _warning_inside_idle(cls, warning: int | None, info: ValidationInfo) -> int | None:
        minutes = info.data.get("public_pc__idle_logout_minutes")
        if minutes is not None and warning is not None and warning >= minutes * 60:
            raise _fail("warning", "the warning is as long as the idle time itself",
                        allowed=f"fewer than public_pc__idle_logout_minutes x 60 = {minutes * 60}")
        return warning


# ---------------------------------------------------------------------------------------------
# Checkers


def check_hosts_file(files: SiteFiles) -> Iterator[Problem]:
    """hosts.yml holds only groups, hosts and connection keys: no inline ``vars:`` (their
    precedence surprises, ansible#80825), no host data beyond ``ansible_host``/``ansible_port``,
    no unknown keys in a group entry."""
    where = display_path(files.hosts_file)
    for group, _, entry, path in _group_entries(files.documents.get(files.hosts_file)):
        for key in entry:
            if key not in GROUP_ENTRY_KEYS:
                yield Problem(where, f"{path}.{key}", "unknown key in a group entry",
                              ", ".join(GROUP_ENTRY_KEYS))
        for var in _mapping(entry.get("vars")):
            yield Problem(where, f"{path}.vars.{var}", "variable defined inline in hosts.yml",
                          f"per-group data in group_vars/{group}/<role>.yml")
        for host, host_vars in _mapping(entry.get("hosts")).items():
            for var in _mapping(host_vars):
                if var not in CONNECTION_KEYS:
                    yield Problem(where, f"{path}.hosts.{host}.{var}",
                                  "variable defined inline in hosts.yml",
                                  f"{', '.join(CONNECTION_KEYS)} here; "
                                  f"other host data in host_vars/{host}/<role>.yml")


def check_membership(site: Site) -> Iterator[Problem]:
    """Every host is in exactly one function group and one ``branch_<slug>`` group."""
    where = display_path(site.files.hosts_file)
    groups = site.inventory.groups
    branches = sorted(g for g in groups if BRANCH_GROUP.fullmatch(g))
    for group in sorted(groups):
        if group.startswith(BRANCH_PREFIX) and group not in branches:
            yield Problem(where, f"groups.{group}", "not a branch group name",
                          f"{BRANCH_PREFIX}<slug>, slug of lowercase letters, digits, _")
    if not site.inventory.hosts:
        yield Problem(where, "all", "the site has no hosts",
                      "at least one host under a function group and a branch group")
    addresses: dict[tuple[str, str], str] = {}
    for host, hostvars in sorted(site.inventory.hosts.items()):
        address = (str(hostvars.get("ansible_host", "")), str(hostvars.get("ansible_port", 22)))
        if address[0] and address in addresses:
            yield Problem(where, f"hosts.{host}.ansible_host",
                          f"the same address and port as {addresses[address]}",
                          "one address (and SSH port) per host")
        addresses.setdefault(address, host)
    for host in site.inventory.hosts:
        member_of = set(site.inventory.groups_of(host))
        for kind, allowed in (("function", FUNCTION_GROUPS), ("branch", branches)):
            found = sorted(member_of.intersection(allowed))
            if len(found) != 1:
                in_groups = (f"in {len(found)} {kind} groups: {', '.join(found)}" if found
                             else f"in no {kind} group")
                yield Problem(where, f"hosts.{host}", in_groups,
                              f"exactly one of {', '.join(allowed) or BRANCH_PREFIX + '<slug>'}")


def check_hosts(site: Site) -> Iterator[Problem]:
    """Every host has an address (:class:`HostModel`)."""
    yield from site.model_problems(HostModel, site.inventory.hosts, site.files.hosts_file)


def check_accounts(site: Site) -> Iterator[Problem]:
    """Management accounts and their keys, on every host (:class:`AccountsModel`)."""
    expected = site.files.path / "group_vars" / "all" / "accounts.yml"
    yield from site.model_problems(AccountsModel, site.inventory.hosts, expected)


def check_branches(site: Site) -> Iterator[Problem]:
    """Each branch group's facts, as seen on each of its hosts (:class:`BranchModel`)."""
    for group, members in sorted(site.inventory.groups.items()):
        if BRANCH_GROUP.fullmatch(group):
            expected = site.files.path / "group_vars" / group / "branch.yml"
            yield from site.model_problems(BranchModel, members, expected)


#: Where the variables the project reads are named: roles, deploys, the shared Python, plugins.
_READERS = ("roles", "deploy", "libraryops", "plugins", "playbooks")
_READER_SUFFIXES = (".py", ".yml", ".yaml", ".j2")
_OWNED_NAME = re.compile(r"\b[a-z][a-z0-9_]*?__[a-z0-9_]+\b")


@cache
def read_variable_names() -> frozenset[str]:
    """Every ``<owner>__<name>`` the project's roles, deploys and checks mention (DebOps-style
    names, DESIGN.md "Names"): the variables something reads."""
    names: set[str] = set()
    for top in _READERS:
        for file in (paths.REPO / top).rglob("*"):
            if file.suffix in _READER_SUFFIXES and "molecule" not in file.parts:
                names.update(_OWNED_NAME.findall(file.read_text(encoding="utf-8", errors="ignore")))
    return frozenset(names)


def check_variable_names(site: Site) -> Iterator[Problem]:
    """Catch typos that would silently fall back to a default: an ``<owner>__<name>`` variable
    whose owner is known but that nothing reads; a group_vars/ or host_vars/ entry for a group
    or host the inventory does not have."""
    if not site.inventory.hosts:
        return  # check_membership reports the empty site; every group would be "unknown"
    known = read_variable_names()
    owners = {name.split("__", 1)[0] for name in known}
    for scope, definitions in site.files.scopes.items():
        kind, _, name = scope.partition(":")
        named_in_hosts_file = any(f == site.files.hosts_file for f, _ in definitions)
        if (kind == "group" and name != "all" and name not in site.inventory.groups
                and not named_in_hosts_file):
            yield Problem(display_path(definitions[0][0]), f"group_vars.{name}",
                          "no such group in hosts.yml: these variables reach no host",
                          ", ".join(sorted(site.inventory.groups)))
        if kind == "host" and name not in site.inventory.hosts and not named_in_hosts_file:
            yield Problem(display_path(definitions[0][0]), f"host_vars.{name}",
                          "no such host in hosts.yml: these variables reach no host",
                          "a host of hosts.yml")
        for file, variables in definitions:
            for variable in sorted(variables):
                owner = variable.split("__", 1)[0]
                near_owner = difflib.get_close_matches(owner, owners, n=1, cutoff=0.75)
                if "__" in variable and owner not in owners and near_owner:
                    yield Problem(display_path(file), variable,
                                  f"no role, deploy or check owns {owner}__ (a typo of "
                                  f"{near_owner[0]}__?)",
                                  f"the {near_owner[0]}__* variables in the docs")
                if "__" in variable and owner in owners and variable not in known:
                    near = difflib.get_close_matches(variable, known, n=3, cutoff=0.75)
                    yield Problem(display_path(file), variable,
                                  "no role, deploy or check reads this variable (a typo?)",
                                  ", ".join(near) or f"the {owner}__* variables in the docs")


def _branch_scope(kind: str, name: str) -> bool:
    return kind == "group" and (name == "all" or bool(BRANCH_GROUP.fullmatch(name)))


def _not_another_function_group(own: str) -> Callable[[str, str], bool]:
    """Anywhere but the group_vars of a function group other than ``own``."""
    return lambda kind, name: not (kind == "group" and name in FUNCTION_GROUPS and name != own)


#: Variables that one scope owns -> (where they may be defined, where that is in words). Defined
#: elsewhere, they win or lose by Ansible's precedence, silently: ``branch__*`` in a function
#: group's group_vars beats the branch's own value (same depth: the later group name wins);
#: ``firewall__rules`` in a group replaces, not extends, the site's rules.
SCOPED_VARIABLES: dict[re.Pattern, tuple[Callable[[str, str], bool], str]] = {
    re.compile(r"branch__\w+"): (
        _branch_scope, "group_vars/branch_<slug>/ (one branch), or group_vars/all/ as a "
                       "default for every branch"),
    re.compile(r"firewall__rules"): (
        lambda kind, name: kind == "group" and name == "all", "group_vars/all/firewall.yml; "
        "a group's rules are firewall__group_rules, a host's firewall__host_rules"),
    re.compile(r"firewall__group_rules"): (
        lambda kind, name: kind == "group" and name != "all",
        "group_vars/<group>/firewall.yml; the site's rules are firewall__rules"),
    re.compile(r"firewall__host_rules"): (
        lambda kind, name: kind == "host", "host_vars/<host>/firewall.yml"),
    re.compile(r"wireless__\w+"): (
        lambda kind, name: kind == "group" and name == "all",
        "group_vars/all/wireless.yml or wireless_vault.yml: one declaration per site"),
    **{re.compile(rf"{owner}__\w+"): (
        _not_another_function_group(group), f"group_vars/{group}/ (or all/, a branch's, a "
                                            "host's), never another function group's")
       for owner, group in (("public_pc", "public_pcs"), ("staff_workstation", "staff_machines"),
                            ("wireless_ap", "wireless_aps"))},
}


def check_variable_scopes(site: Site) -> Iterator[Problem]:
    """Each variable of :data:`SCOPED_VARIABLES` defined only where it belongs (group_vars,
    host_vars and hosts.yml alike), so that no branch fact or firewall layer is overridden or
    replaced by accident."""
    for scope, definitions in site.files.scopes.items():
        kind, _, name = scope.partition(":")
        for file, variables in definitions:
            for variable in sorted(variables):
                rule = next((r for p, r in SCOPED_VARIABLES.items() if p.fullmatch(variable)),
                            None)
                if rule and not rule[0](kind, name):
                    key = (f"{'hosts' if kind == 'host' else 'groups'}.{name}.{variable}"
                           if file == site.files.hosts_file else variable)
                    yield Problem(display_path(file), key,
                                  f"defined for {kind} {name}, outside its scope: it would "
                                  "silently override or replace the value where it belongs",
                                  rule[1])


def check_public_pcs(site: Site) -> Iterator[Problem]:
    """Public PC data on the hosts of ``public_pcs`` (:class:`PublicPcModel`)."""
    expected = site.files.path / "group_vars" / "public_pcs" / "public_pc.yml"
    members = site.inventory.groups.get("public_pcs", [])
    yield from site.model_problems(PublicPcModel, members, expected)


#: Checks of the files as written; they run even when Ansible cannot merge the site.
def check_azure(files: SiteFiles) -> Iterator[Problem]:
    """``azure.yml``, when the site has one (the checks live in :mod:`libraryops.cloud.spec`)."""
    for problem in azure_spec.check_site(files.path):
        yield Problem(problem.file, problem.key, problem.message)


FILE_CHECKS: list[Callable[[SiteFiles], Iterable[Problem]]] = [check_hosts_file, check_azure]
#: Checks of the merged site, one per concern.
CHECKS: list[Callable[[Site], Iterable[Problem]]] = [
    check_membership,
    check_hosts,
    check_accounts,
    check_branches,
    check_public_pcs,
    check_variable_names,
    check_variable_scopes,
    check_hours,
    check_calendar,
    *validate_baseline.CHECKS,
    *validate_wireless.CHECKS,
]


def _check(site_dir: Path) -> tuple[list[Problem], SiteInventory | None]:
    """The problems of a site, and its merged view when Ansible could read it."""
    files, problems = parse_site(site_dir)
    if problems:
        return problems, None
    for file_check in FILE_CHECKS:
        problems.extend(file_check(files))
    try:
        inventory = load_site(site_dir)
    except InventoryError as exc:
        problems.append(Problem(display_path(files.hosts_file), "ansible-inventory", str(exc)))
        return problems, None
    site = Site(files, inventory)
    for check in CHECKS:
        problems.extend(check(site))
    return list(dict.fromkeys(problems)), inventory


def validate_site(site_dir: Path) -> list[Problem]:
    """Every problem of the site in ``site_dir`` (no error, warnings aside: the site is valid).

    Order: file parse problems (when there are any, nothing else is checked), then
    :data:`FILE_CHECKS`, then an ``ansible-inventory`` failure as one problem on hosts.yml or
    else :data:`CHECKS`. Duplicates (the same variable failing on many hosts) are reported once.
    Nothing is contacted.

    Raises:
        OSError: the vault password file (:func:`libraryops.paths.vault_password_file`) exists
            in the environment but cannot be read. A bad site never raises.
    """
    return _check(site_dir)[0]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m libraryops.validate <site-dir>``: print every problem.

    Returns:
        0 when the site is valid, 1 when it has problems, 2 when the site does not exist.
    """
    parser = argparse.ArgumentParser(prog="python -m libraryops.validate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", help="site directory (inventories/<site>) or site name")
    site_arg = parser.parse_args(argv).site
    site_dir = Path(site_arg)
    if not site_dir.is_dir():
        try:
            site_dir = paths.site_dir(site_arg)
        except paths.SiteError as exc:
            print(f"validate: {exc}", file=sys.stderr)
            return 2
    try:
        problems, inventory = _check(site_dir)
    except ValueError as exc:  # LIBRARYOPS_NOW is not an instant
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    errors = [p for p in problems if not p.warning]
    warnings = f" ({len(problems) - len(errors)} warning(s))" if len(errors) < len(problems) else ""
    if errors or inventory is None:
        print(f"validate: {len(errors)} problem(s){warnings}; nothing was contacted")
        return 1
    print(f"validate: {display_path(site_dir)}: {len(inventory.hosts)} hosts, "
          f"{len(inventory.groups)} groups: OK{warnings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
