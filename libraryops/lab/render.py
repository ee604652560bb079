"""Text the lab writes (pure functions): SSH config, nftables rules, nginx config, host files."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from libraryops.lab.aptsources import Upstream
from libraryops.lab.config import LabConfig, LabHost

#: The nftables table this tool owns (its only writer).
NFT_TABLE = "inet libraryops_lab"
#: The lab printer's IPP port (``libraryops.lab.printer``).
PRINTER_PORT = 631
#: The lab's SMTP sink (``libraryops.lab.mail``): the monitoring host's smarthost.
MAIL_PORT = 2525
#: TCP ports lab hosts may reach on the bridge address: catalog, printer, apt cache, mail sink.
BRIDGE_PORTS = (80, PRINTER_PORT, 3142, MAIL_PORT)
#: The package cache's port (paths /debian/, /debian-security/: :mod:`libraryops.lab.aptsources`).
CACHE_PORT = 3142
CATALOG_PORT = 80

_HEADER = "# Written by libraryops.lab; `python -m libraryops.lab up` rewrites it: do not edit.\n"


def ssh_host_patterns(network: ipaddress.IPv4Network, hosts: Iterable[LabHost]) -> list[str]:
    """ssh_config ``Host`` patterns covering the lab: an octet wildcard (``10.123.0.*``) when the
    prefix is a multiple of 8, otherwise the hosts' addresses one by one."""
    if network.prefixlen % 8 == 0 and network.prefixlen < 32:
        octets = str(network.network_address).split(".")[: network.prefixlen // 8]
        return [".".join(octets + ["*"] * (4 - len(octets)))]
    return [str(h.address) for h in hosts]


def ssh_config(config: LabConfig) -> str:
    """The lab's ssh_config (``ssh -F``): the lab key, no host-key checks, connection reuse.

    No ``User``: the engines set it. Known-hosts checking is off because host keys change on
    every re-create; this file is for the lab only, never for a real site.
    """
    layout = config.layout
    patterns = " ".join(ssh_host_patterns(config.network, config.hosts))
    return (
        _HEADER
        + "# SSH options for the lab hosts only (host keys change on every re-create).\n"
        f"Host {patterns}\n"
        f"    IdentityFile {layout.private_key}\n"
        "    IdentitiesOnly yes\n"
        "    StrictHostKeyChecking no\n"
        "    UserKnownHostsFile /dev/null\n"
        "    LogLevel ERROR\n"
        "    ControlMaster auto\n"
        f"    ControlPath {layout.ssh_dir}/cm-%C\n"
        "    ControlPersist 60s\n"
    )


def nft_ruleset(config: LabConfig) -> str:
    """The ``inet libraryops_lab`` table: nothing is forwarded into or out of the bridge (the
    hosts have no route out; this is defence in depth), from the bridge the machine accepts
    only replies, ICMP and the lab services on the bridge address, and the lab printer (which
    must listen on the wildcard addresses) answers nothing but the bridge and loopback."""
    bridge = config.bridge
    ports = ", ".join(str(p) for p in BRIDGE_PORTS)
    return (
        f"table {NFT_TABLE} {{\n"
        "    chain forward {\n"
        "        type filter hook forward priority filter; policy accept;\n"
        "        # host to host inside the lab (seen here when br_netfilter is loaded)\n"
        f'        iifname "{bridge}" oifname "{bridge}" accept\n'
        f'        iifname "{bridge}" drop\n'
        f'        oifname "{bridge}" drop\n'
        "    }\n"
        "    chain input {\n"
        "        type filter hook input priority filter; policy accept;\n"
        f'        iifname != {{ "lo", "{bridge}" }} tcp dport {PRINTER_PORT} drop\n'
        f'        iifname "{bridge}" jump from_lab\n'
        "    }\n"
        "    chain from_lab {\n"
        "        ct state established,related accept\n"
        "        meta l4proto { icmp, ipv6-icmp } accept\n"
        f"        ip daddr {config.bridge_ip} tcp dport {{ {ports} }} accept\n"
        "        drop\n"
        "    }\n"
        "}\n"
    )


def nameservers(resolv_conf: str) -> list[str]:
    """Nameserver addresses from resolv.conf text, IPv6 ones in brackets (nginx syntax)."""
    found = []
    for line in resolv_conf.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            address = fields[1].split("%")[0]
            found.append(f"[{address}]" if ":" in address else address)
    return found


def nginx_conf(config: LabConfig, upstreams: dict[str, Upstream], resolvers: list[str]) -> str:
    """nginx config: the shared package cache on :3142 and the catalog page on :80, both on the
    bridge address only, in the foreground (its owner runs it), with every path (pid, logs,
    temp, cache) in the state directory.

    Args:
        config: the lab settings.
        upstreams: archive name (the cache's URL path, e.g. ``debian``) -> the mirror archive
            it forwards to (:func:`libraryops.lab.aptsources.lab_upstreams`).
        resolvers: nameservers for mirror host names (may be empty when every mirror is an IP
            address).

    Cache validity: pool/ and by-hash files never change (90 days); other index files (InRelease,
    ...) 2 minutes, then revalidated. ``proxy_cache_lock`` makes hosts asking for the same file
    at once wait for one upstream download.
    """
    layout = config.layout
    ip = config.bridge_ip
    temp = layout.nginx_dir / "tmp"
    resolver = (f"    resolver {' '.join(resolvers)} valid=300s ipv6=off;\n"
                "    resolver_timeout 10s;\n") if resolvers else ""
    return (
        _HEADER
        + "daemon off;\n"
        "user www-data;\n"
        "worker_processes 2;\n"
        f"pid {layout.nginx_pid};\n"
        f"error_log {layout.logs}/nginx-error.log warn;\n"
        "events {\n    worker_connections 512;\n}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    server_tokens off;\n"
        "    sendfile on;\n"
        "    log_format lab '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent '\n"
        "                   'cache=$upstream_cache_status';\n"
        f"    access_log {layout.logs}/nginx-access.log lab;\n"
        + "".join(
            f"    {kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + resolver
        + f"    proxy_cache_path {layout.package_cache} levels=1:2 keys_zone=apt:16m max_size=20g\n"
        "                     inactive=180d use_temp_path=off;\n"
        "\n"
        "    server {\n"
        f"        listen {ip}:{CACHE_PORT};\n"
        "        proxy_cache apt;\n"
        "        proxy_cache_key $uri;\n"
        "        proxy_cache_lock on;\n"
        "        proxy_cache_lock_timeout 10m;\n"
        "        proxy_cache_lock_age 10m;\n"
        "        proxy_cache_revalidate on;\n"
        "        proxy_cache_use_stale error timeout updating http_502 http_503 http_504;\n"
        "        proxy_ignore_headers Cache-Control Expires Set-Cookie X-Accel-Expires;\n"
        "        proxy_cache_valid 404 1m;\n"
        "        proxy_http_version 1.1;\n"
        "        add_header X-Lab-Cache $upstream_cache_status always;\n"
        + "".join(_mirror_locations(n, name, upstreams[name]) for n, name in enumerate(upstreams))
        + "        location / {\n            return 404;\n        }\n"
        "    }\n"
        "\n"
        "    server {\n"
        f"        listen {ip}:{CATALOG_PORT};\n"
        f"        root {layout.www};\n"
        "        location = / {\n            return 302 /catalog/;\n        }\n"
        "    }\n"
        "}\n"
    )


def _mirror_locations(number: int, archive: str, upstream: Upstream) -> str:
    """The cache's two locations for one archive: immutable files kept 90 days, indexes 2 min.

    The mirror's host sits in a variable so nginx resolves it at request time (a mirror whose
    address changes keeps working); ``rewrite`` maps ``/<archive>/`` to the mirror's own path.
    """
    variable = f"$mirror{number}"
    tls = (f"            proxy_ssl_server_name on;\n"
           f"            proxy_ssl_name {upstream.netloc.split(':')[0]};\n"
           if upstream.scheme == "https" else "")
    body = (
        f"            rewrite ^/{archive}/(.*)$ {upstream.path}/$1 break;\n"
        f"            proxy_set_header Host {upstream.netloc};\n"
        '            proxy_set_header Connection "";\n'
        + tls
        + f"            proxy_pass {upstream.scheme}://{variable};\n"
    )
    return (
        f"        set {variable} {upstream.netloc};\n"
        f"        location ~ ^/{archive}/(pool/|dists/.*/by-hash/) {{\n"
        "            proxy_cache_valid 200 90d;\n" + body + "        }\n"
        f"        location ~ ^/{archive}/ {{\n"
        "            proxy_cache_valid 200 2m;\n" + body + "        }\n"
    )


def catalog_page() -> str:
    """The lab's stand-in for the library catalog (the public PCs' homepage)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '  <meta charset="utf-8">\n'
        "  <title>Main Library catalog (lab)</title>\n"
        "</head>\n"
        "<body>\n"
        "  <h1>Main Library catalog (lab)</h1>\n"
        '  <form action="/catalog/" method="get" role="search">\n'
        '    <label for="q">Search the catalog</label>\n'
        '    <input id="q" name="q" type="search">\n'
        '    <button type="submit">Search</button>\n'
        "  </form>\n"
        "  <p>A stand-in served on the lab bridge; nothing here leaves this machine.</p>\n"
        "</body>\n"
        "</html>\n"
    )


def etc_hosts(name: str, hosts: Iterable[LabHost]) -> str:
    """/etc/hosts of one lab host: its own name on 127.0.1.1 and every lab host's address."""
    lines = [
        "127.0.0.1\tlocalhost",
        f"127.0.1.1\t{name}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
        "# lab hosts",
        *(f"{h.address}\t{h.name}" for h in hosts),
    ]
    return "\n".join(lines) + "\n"


def networkd_host0(host: LabHost, network: ipaddress.IPv4Network) -> str:
    """systemd-networkd config for the container's ``host0`` link: fixed address, no gateway
    (the hosts reach only the bridge subnet), no DHCP, no router advertisements."""
    return (
        _HEADER
        + "[Match]\n"
        "Name=host0\n"
        "\n"
        "[Network]\n"
        f"Address={host.address}/{network.prefixlen}\n"
        "DHCP=no\n"
        "IPv6AcceptRA=no\n"
    )

