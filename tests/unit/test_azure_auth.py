"""The client factory: `--auth lab` only with a loopback endpoint, and only `lab` there."""

from __future__ import annotations

import io

import pytest
import yaml

from libraryops.cloud import cli
from libraryops.cloud.clients import AuthError, Endpoint, credential, make_clients

REAL = Endpoint("https://management.azure.com")


@pytest.mark.parametrize("url", ["https://management.azure.com", "https://10.0.0.4:8443",
                                 "https://169.254.169.254", "https://127.0.0.1.nip.io"])
def test_lab_auth_refuses_a_non_loopback_endpoint(url):
    with pytest.raises(AuthError, match="only with a loopback endpoint"):
        credential("lab", Endpoint(url))


@pytest.mark.parametrize("auth", ["env", "cli", "mi", "default"])
def test_a_loopback_endpoint_accepts_only_lab_auth(auth):
    with pytest.raises(AuthError, match="use --auth lab only"):
        make_clients(auth, "00000000-0000-0000-0000-000000000000",
                     Endpoint("https://127.0.0.1:9"))


@pytest.mark.parametrize("url", ["https://127.0.0.1:8443", "https://[::1]:8443",
                                 "https://localhost:8443"])
def test_lab_auth_gives_a_static_token_for_loopback(url):
    assert credential("lab", Endpoint(url)).get_token("scope").token


def test_the_cli_refuses_lab_auth_for_real_azure_before_any_request(tmp_path, capsys):
    site = tmp_path / "town"
    site.mkdir()
    (site / "azure.yml").write_text(yaml.safe_dump({
        "subscription_id": "00000000-0000-0000-0000-000000000001", "location": "eastus",
        "tags": {"owner": "it", "cost-center": "library", "env": "prod"},
        "resource_groups": [{"name": "rg-town"}]}))
    out = io.StringIO()
    assert cli.main(["plan", "--inventory", str(site), "--auth", "lab"], out=out) == 1
    assert "--auth lab is allowed only with a loopback endpoint" in capsys.readouterr().err
    assert out.getvalue() == ""


def test_the_cli_refuses_an_invalid_spec_before_any_request(tmp_path, capsys):
    site = tmp_path / "town"
    site.mkdir()
    (site / "azure.yml").write_text("subscription_id: nope\n")
    assert cli.main(["plan", "--inventory", str(site), "--auth", "lab"]) == 1
    assert "inventories/town/azure.yml: subscription_id: " in capsys.readouterr().err


def test_a_standin_endpoint_that_is_not_loopback_is_refused(tmp_path):
    import json

    from libraryops.cloud.clients import resolve_endpoint

    (tmp_path / "endpoint.json").write_text(json.dumps(
        {"url": "https://arm.example.org", "ca": "ca.pem", "pid": 1}))
    with pytest.raises(AuthError, match="not on loopback"):
        resolve_endpoint("standin", tmp_path)


def test_a_sovereign_cloud_gets_its_own_token_audience():
    from libraryops.cloud.clients import resolve_endpoint

    endpoint = resolve_endpoint("https://management.usgovcloudapi.net/")
    assert endpoint.url == "https://management.usgovcloudapi.net"
    assert endpoint.credential_scopes == ["https://management.core.usgovcloudapi.net/.default"]
