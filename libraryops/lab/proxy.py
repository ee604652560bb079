"""The lab's nginx on the bridge address: the shared package cache and the catalog page.

Runs in the foreground (``daemon off;``) under the machine's owner (:mod:`libraryops.lab.owner`:
the unit ``libraryops-lab-nginx.service`` with systemd, else a detached session) with
``-c <state>/nginx/nginx.conf`` (pid, logs, temp files and the cache all in the state
directory); reloaded only when its config changed; the cache survives ``down``. It listens on
the bridge address only, so it coexists with a web server on the machine's other addresses --
but not with one on port 80 of *every* address (Debian's ``nginx.service`` default site), which
:func:`ensure_nginx` names before starting.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from libraryops.lab import aptsources, owner, render
from libraryops.lab.config import LabConfig, Layout
from libraryops.lab.system import LabError, program, run, write_file

RESOLV_CONF = Path("/etc/resolv.conf")


def cache_url(config: LabConfig) -> str:
    """Base URL of the package cache (``http://<bridge-ip>:3142``; append /debian...)."""
    return f"http://{config.bridge_ip}:{render.CACHE_PORT}"


def daemon(layout: Layout, name: str = "nginx") -> owner.Daemon:
    """The lab's nginx as its owner runs it (``name``: its unit's, for a second cache on one
    machine such as the stock-machine harness's)."""
    return owner.Daemon(
        name=name, argv=(program("nginx"), "-c", str(layout.nginx_conf)),
        log=layout.logs / "nginx-start.log", pidfile=layout.nginx_pid,
        marker=str(layout.nginx_conf))


def nginx_pid(layout: Layout) -> int | None:
    """The pid of the lab's running nginx master, or None."""
    return owner.daemon_pid(daemon(layout))


def ensure_nginx(config: LabConfig, name: str = "nginx") -> str:
    """Start nginx, reload it when its config changed, or leave it; return what was done.

    Raises:
        LabError: the machine's apt sources name no usable Debian mirror, a mirror's host name
            needs a nameserver and resolv.conf has none, a port the lab needs on the bridge
            address is taken (the message names the program and its unit), the new config
            fails ``nginx -t``, or nginx did not start (the message shows its error log).
    """
    layout = config.layout
    _make_dirs(layout)
    write_file(layout.www / "catalog" / "index.html", render.catalog_page())
    upstreams = aptsources.lab_upstreams()
    resolvers = render.nameservers(RESOLV_CONF.read_text() if RESOLV_CONF.exists() else "")
    if not resolvers and any(not u.is_address for u in upstreams.values()):
        raise LabError(f"no nameserver in {RESOLV_CONF}: nginx cannot resolve the mirror")
    text = render.nginx_conf(config, upstreams, resolvers)
    lab_nginx = daemon(layout, name)
    pid = owner.daemon_pid(lab_nginx)
    if pid and layout.nginx_conf.is_file() and layout.nginx_conf.read_text() == text:
        return "nginx running, config unchanged"
    candidate = layout.nginx_conf.with_name("nginx.conf.new")
    write_file(candidate, text)
    run(["nginx", "-t", "-q", "-c", str(candidate)])
    candidate.replace(layout.nginx_conf)
    if pid:
        owner.signal_daemon(lab_nginx, signal.SIGHUP)
        return "nginx reloaded (config changed)"
    _start(config, lab_nginx)
    return (f"nginx started on {config.bridge_ip} (:{render.CACHE_PORT} package cache, "
            f":{render.CATALOG_PORT} catalog, mirror {upstreams['debian'].url})")


def stop_nginx(layout: Layout, name: str = "nginx") -> bool:
    """Stop the lab's nginx; return True when one was running."""
    return owner.stop_daemon(daemon(layout, name))


def _make_dirs(layout: Layout) -> None:
    for directory in (layout.nginx_dir / "tmp", layout.package_cache, layout.logs, layout.www):
        directory.mkdir(parents=True, exist_ok=True)
    # nginx workers (www-data) read the catalog and the cache under the state directory.
    for directory in (layout.root, layout.www, layout.package_cache.parent):
        directory.chmod(0o755)


def _start(config: LabConfig, lab_nginx: owner.Daemon) -> None:
    owner.start_answering(
        lab_nginx, lambda: _listening(config), 10, f"nginx did not start on {config.bridge_ip}",
        ports=tuple((config.bridge_ip, port) for port in (render.CATALOG_PORT, render.CACHE_PORT)),
        needs="the lab's nginx needs it (Debian's nginx.service listens on port 80 of every "
              "address: `systemctl disable --now nginx`, or make it listen on other addresses)",
        logs=(config.layout.logs / "nginx-error.log",))


def _listening(config: LabConfig) -> bool:
    try:
        with socket.create_connection((config.bridge_ip, render.CACHE_PORT), timeout=1):
            return nginx_pid(config.layout) is not None
    except OSError:
        return False
