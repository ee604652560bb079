"""Text the lab writes: SSH config, nftables rules, nginx config, host files."""

import ipaddress
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from libraryops.lab import render
from libraryops.lab.aptsources import Upstream
from libraryops.lab.config import LabHost, config_from_hosts

SETTINGS = {
    "lab__bridge_name": "lolab0",
    "lab__bridge_address": "10.123.0.1/24",
    "lab__state_dir": "/var/lib/libraryops-lab",
    "lab__release": "12",
}
CONFIG = config_from_hosts(
    {
        "main-pub-01": {**SETTINGS, "ansible_host": "10.123.0.11"},
        "main-staff-01": {**SETTINGS, "ansible_host": "10.123.0.21"},
    },
    {},
)


@pytest.mark.parametrize(
    ("network", "patterns"),
    [
        ("10.123.0.0/24", ["10.123.0.*"]),
        ("10.123.0.0/16", ["10.123.*.*"]),
        ("10.123.0.0/25", ["10.123.0.11", "10.123.0.21"]),
    ],
)
def test_ssh_host_patterns(network, patterns):
    assert render.ssh_host_patterns(ipaddress.IPv4Network(network), CONFIG.hosts) == patterns


def test_ssh_config_options():
    text = render.ssh_config(CONFIG)
    lines = [line.strip() for line in text.splitlines()]
    assert "Host 10.123.0.*" in lines
    for option in (
        "IdentityFile /var/lib/libraryops-lab/ssh/id_ed25519",
        "IdentitiesOnly yes",
        "StrictHostKeyChecking no",
        "UserKnownHostsFile /dev/null",
        "LogLevel ERROR",
        "ControlMaster auto",
        "ControlPath /var/lib/libraryops-lab/ssh/cm-%C",
        "ControlPersist 60s",
    ):
        assert option in lines
    assert not any(line.split()[:1] == ["User"] for line in lines), "the engines set the user"


def test_nft_ruleset_drops_forwarding_and_limits_input():
    text = render.nft_ruleset(CONFIG)
    assert text.startswith("table inet libraryops_lab {")
    assert 'iifname "lolab0" drop' in text
    assert 'oifname "lolab0" drop' in text
    assert 'iifname "lolab0" jump from_lab' in text
    assert "ct state established,related accept" in text
    assert "ip daddr 10.123.0.1 tcp dport { 80, 631, 3142, 2525 } accept" in text
    assert "masquerade" not in text and "nat" not in text


def test_nameservers_from_resolv_conf():
    text = "# comment\nnameserver 10.255.255.53\nsearch x\nnameserver fd00::53%eth0\nnameserver"
    assert render.nameservers(text) == ["10.255.255.53", "[fd00::53]"]


UPSTREAMS = {"debian": Upstream("http://deb.debian.org/debian"),
             "debian-security": Upstream("http://deb.debian.org/debian-security")}


def test_nginx_conf_listens_on_bridge_only_and_caches_with_lock():
    text = render.nginx_conf(CONFIG, UPSTREAMS, ["10.255.255.53"])
    listens = [line.split()[1].rstrip(";") for line in text.splitlines()
               if line.strip().startswith("listen")]
    assert listens == ["10.123.0.1:3142", "10.123.0.1:80"]
    assert "proxy_cache_lock on;" in text
    assert "proxy_set_header Host deb.debian.org;" in text
    assert "resolver 10.255.255.53 valid=300s ipv6=off;" in text
    assert "proxy_cache_path /var/lib/libraryops-lab/cache/apt " in text
    assert "pid /var/lib/libraryops-lab/nginx/nginx.pid;" in text
    assert text.count("daemon off;") == 1  # its owner (a unit or the lab) keeps it running
    assert "root /var/lib/libraryops-lab/www;" in text
    # every path nginx writes is in the state directory
    for line in text.splitlines():
        if "_temp_path " in line or line.strip().startswith(("error_log", "access_log")):
            assert "/var/lib/libraryops-lab/" in line


def test_nginx_cache_validity_long_for_pool_short_for_indexes():
    text = render.nginx_conf(CONFIG, UPSTREAMS, ["10.255.255.53"])
    for archive in ("debian", "debian-security"):
        pool = text.index(f"location ~ ^/{archive}/(pool/|dists/.*/by-hash/) {{")
        assert "proxy_cache_valid 200 90d;" in text[pool:pool + 120]
        other = text.index(f"location ~ ^/{archive}/ {{")
        assert "proxy_cache_valid 200 2m;" in text[other:other + 120]
        # the immutable files' location comes first: nginx takes the first regex that matches
        assert pool < other


def test_nginx_forwards_each_archive_to_the_machines_own_mirror_path():
    upstreams = {"debian": Upstream("http://10.9.8.7:3142/debian/"),
                 "debian-security": Upstream("https://mirror.town.example/deb-sec")}
    text = render.nginx_conf(CONFIG, upstreams, [])
    assert "resolver" not in text  # no nameservers given: none written
    assert "rewrite ^/debian/(.*)$ /debian/$1 break;" in text
    assert "proxy_set_header Host 10.9.8.7:3142;" in text
    assert "rewrite ^/debian-security/(.*)$ /deb-sec/$1 break;" in text
    assert "proxy_ssl_name mirror.town.example;" in text
    assert "proxy_pass https://$mirror1;" in text and "proxy_pass http://$mirror0;" in text


def test_catalog_page_names_the_library():
    assert "<title>Main Library catalog (lab)</title>" in render.catalog_page()
    assert '<form action="/catalog/"' in render.catalog_page()


def test_etc_hosts_lists_own_name_and_every_lab_host():
    text = render.etc_hosts("main-pub-01", CONFIG.hosts)
    assert "127.0.1.1\tmain-pub-01\n" in text
    assert "10.123.0.11\tmain-pub-01\n" in text
    assert "10.123.0.21\tmain-staff-01\n" in text


def test_networkd_has_address_and_no_gateway():
    host = LabHost("main-pub-01", ipaddress.IPv4Address("10.123.0.11"), "12")
    text = render.networkd_host0(host, CONFIG.network)
    assert "Name=host0" in text
    assert "Address=10.123.0.11/24" in text
    assert "Gateway" not in text
    assert "DHCP=no" in text


@pytest.mark.skipif(shutil.which("nginx", path="/usr/sbin:/usr/bin") is None,
                    reason="nginx is not installed (make deps installs it for the lab)")
def test_nginx_itself_accepts_the_config():
    tmp_path = Path(tempfile.mkdtemp(prefix="lab-nginx-"))  # short: a lab state dir must be
    # `nginx -t` binds the listen addresses: a loopback "bridge" exists on every machine
    config = config_from_hosts(
        {"pc": {**SETTINGS, "lab__state_dir": str(tmp_path), "lab__bridge_address": "127.0.77.1/24",
                "ansible_host": "127.0.77.11"}}, {})
    for directory in ("logs", "nginx/tmp", "cache"):
        (tmp_path / directory).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render.nginx_conf(config, UPSTREAMS, ["10.255.255.53"]))
    proc = subprocess.run([shutil.which("nginx", path="/usr/sbin:/usr/bin"), "-t", "-q",
                           "-c", str(conf)], capture_output=True, text=True, check=False)
    shutil.rmtree(tmp_path)
    assert proc.returncode == 0, proc.stderr
