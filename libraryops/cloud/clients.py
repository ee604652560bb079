"""The one client factory: credentials (``--auth``), the ARM endpoint and the three SDK clients.

Auth modes:
- ``env``: a service principal from ``AZURE_TENANT_ID``/``AZURE_CLIENT_ID``/``AZURE_CLIENT_SECRET``
  (CI; the secret stays in the environment, never on a command line or in a log);
- ``cli``: the manager's ``az login``;
- ``mi``: the managed identity of the Azure VM this runs on;
- ``default``: azure-identity's DefaultAzureCredential chain;
- ``lab``: a static bearer token for the local ARM stand-in.

``mi`` and ``default`` probe the instance-metadata address, so a loopback endpoint (the lab,
the tests) accepts only ``lab``; and ``lab`` is refused for anything but a loopback endpoint.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken
from azure.mgmt.core.tools import get_arm_endpoints

from libraryops.cloud.spec import ARM_ENDPOINTS, STANDIN

AUTH_MODES = ("env", "cli", "mi", "default", "lab")
#: The lab token: not a secret (the stand-in only checks that a bearer token is sent).
LAB_TOKEN = "libraryops-lab"  # noqa: S105
#: Where ``make lab-up`` runs the stand-in: ``<lab state dir>/arm``.
DEFAULT_STANDIN_DIR = Path(os.environ.get("LIBRARYOPS_LAB_DIR", "/var/lib/libraryops-lab")) / "arm"


class AuthError(ValueError):
    """An auth mode that is unknown or not allowed with this endpoint."""


@dataclass(frozen=True)
class Endpoint:
    """Where ARM is: its base URL, the token audience of its cloud (None: the SDK's default,
    public Azure) and, for the stand-in, the CA file to trust."""

    url: str
    ca_file: str | None = None
    credential_scopes: list[str] | None = None

    @property
    def loopback(self) -> bool:
        """Whether the URL's host is a loopback address (or ``localhost``)."""
        host = urlsplit(self.url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def resolve_endpoint(spec_endpoint: str, standin_dir: Path | None = None) -> Endpoint:
    """The spec's ``endpoint`` (one of :data:`libraryops.cloud.spec.ARM_ENDPOINTS`, with its
    cloud's token audience from the SDK's table); ``standin`` reads the running stand-in's
    ``endpoint.json``.

    Raises:
        AuthError: an endpoint that is not Azure's (the spec refuses it first), or ``standin``
            but no stand-in runs in ``standin_dir`` (default :data:`DEFAULT_STANDIN_DIR`) or
            its URL is not on loopback.
    """
    if spec_endpoint != STANDIN:
        url = spec_endpoint.rstrip("/")
        cloud = next((c for c, known in ARM_ENDPOINTS.items() if known == url), None)
        if cloud is None:
            raise AuthError("endpoint: not one of Azure's management endpoints")
        return Endpoint(url, credential_scopes=get_arm_endpoints(cloud)["credential_scopes"])
    directory = Path(standin_dir or DEFAULT_STANDIN_DIR)
    try:
        data = json.loads((directory / "endpoint.json").read_text())
        endpoint = Endpoint(str(data["url"]), str(data["ca"]))
    except (OSError, ValueError, TypeError, KeyError):
        raise AuthError(f"endpoint: standin, but no ARM stand-in runs in {directory} "
                        "(start it with `make lab-up`)") from None
    if not endpoint.loopback:
        raise AuthError(f"endpoint: standin, but {directory}/endpoint.json names a URL not on "
                        "loopback: the stand-in only ever listens on 127.0.0.1")
    return endpoint


class StaticTokenCredential:
    """A TokenCredential returning a fixed token (the ``lab`` mode; the stand-in only)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Return :data:`LAB_TOKEN`, valid for an hour."""
        return AccessToken(LAB_TOKEN, int(time.time()) + 3600)


def credential(auth: str, endpoint: Endpoint) -> Any:
    """The credential for an auth mode (see the module docstring).

    Raises:
        AuthError: unknown mode, ``lab`` with a non-loopback endpoint, or another mode with a
            loopback one.
    """
    if auth not in AUTH_MODES:
        raise AuthError(f"--auth {auth}: unknown (allowed: {', '.join(AUTH_MODES)})")
    if auth == "lab" and not endpoint.loopback:
        raise AuthError(f"--auth lab is allowed only with a loopback endpoint, not {endpoint.url}")
    if auth != "lab" and endpoint.loopback:
        raise AuthError(f"--auth {auth} with the loopback endpoint {endpoint.url}: the lab and "
                        "the tests use --auth lab only")
    if auth == "lab":
        return StaticTokenCredential()
    from azure import identity

    return {
        "env": identity.EnvironmentCredential,
        "cli": identity.AzureCliCredential,
        "mi": identity.ManagedIdentityCredential,
        "default": identity.DefaultAzureCredential,
    }[auth]()


@dataclass(frozen=True)
class Clients:
    """The SDK clients libraryops uses, all for one subscription and endpoint."""

    network: Any
    compute: Any
    resources: Any


def make_clients(auth: str, subscription_id: str, endpoint: Endpoint) -> Clients:
    """Build the network, compute and resource clients (no request is sent yet).

    A loopback endpoint ignores proxy settings from the environment, so lab traffic never
    leaves 127.0.0.1; ``endpoint.ca_file`` becomes ``connection_verify``.

    Raises:
        AuthError: see :func:`credential`.
    """
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    cred = credential(auth, endpoint)
    options: dict[str, Any] = {"base_url": endpoint.url}
    if endpoint.credential_scopes:
        options["credential_scopes"] = endpoint.credential_scopes
    if endpoint.ca_file:
        options["connection_verify"] = endpoint.ca_file
    if endpoint.loopback:
        options["use_env_settings"] = False
    return Clients(
        network=NetworkManagementClient(cred, subscription_id, **options),
        compute=ComputeManagementClient(cred, subscription_id, **options),
        resources=ResourceManagementClient(cred, subscription_id, **options),
    )
