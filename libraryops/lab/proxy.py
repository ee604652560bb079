"""The lab's nginx on the bridge address: the shared package cache and the catalog page.

Started by the lab with ``-c <state>/nginx/nginx.conf`` (pid, logs, temp files and the cache all
in the state directory), reloaded only when its config changed; the cache survives ``down``.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

from libraryops.lab import render
from libraryops.lab.config import LabConfig, Layout
from libraryops.lab.system import (
    LabError,
    process_cmdline,
    read_pid,
    run,
    run_logged,
    tail,
    wait_until,
    write_file,
)

RESOLV_CONF = Path("/etc/resolv.conf")


def cache_url(config: LabConfig) -> str:
    """Base URL of the package cache (``http://<bridge-ip>:3142``; append /debian...)."""
    return f"http://{config.bridge_ip}:{render.CACHE_PORT}"


def nginx_pid(layout: Layout) -> int | None:
    """The pid of the lab's running nginx master, or None (a stale pid file is ignored)."""
    pid = read_pid(layout.nginx_pid)
    if pid is None:
        return None
    command = " ".join(process_cmdline(pid))
    return pid if "nginx: master process" in command and str(layout.nginx_conf) in command else None


def ensure_nginx(config: LabConfig) -> str:
    """Start nginx, reload it when its config changed, or leave it; return what was done.

    Raises:
        LabError: no nameserver to resolve the mirror with, the new config fails ``nginx -t``,
            or nginx did not start (the message shows its error log).
    """
    layout = config.layout
    _make_dirs(layout)
    write_file(layout.www / "catalog" / "index.html", render.catalog_page())
    resolvers = render.nameservers(RESOLV_CONF.read_text() if RESOLV_CONF.exists() else "")
    if not resolvers:
        raise LabError(f"no nameserver in {RESOLV_CONF}: nginx cannot resolve the mirror")
    text = render.nginx_conf(config, resolvers)
    pid = nginx_pid(layout)
    if pid and layout.nginx_conf.is_file() and layout.nginx_conf.read_text() == text:
        return "nginx running, config unchanged"
    candidate = layout.nginx_conf.with_name("nginx.conf.new")
    write_file(candidate, text)
    run(["nginx", "-t", "-q", "-c", str(candidate)])
    os.replace(candidate, layout.nginx_conf)
    if pid:
        os.kill(pid, signal.SIGHUP)
        return "nginx reloaded (config changed)"
    _start(config)
    return (f"nginx started on {config.bridge_ip} (:{render.CACHE_PORT} package cache, "
            f":{render.CATALOG_PORT} catalog)")


def stop_nginx(layout: Layout) -> bool:
    """Stop the lab's nginx (SIGTERM, SIGKILL after 10 s); return True when one was running."""
    pid = nginx_pid(layout)
    if pid is None:
        return False
    workers = _children(pid)
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: nginx_pid(layout) is None, 10):
        for victim in [pid, *workers]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
    layout.nginx_pid.unlink(missing_ok=True)
    return True


def _make_dirs(layout: Layout) -> None:
    for directory in (layout.nginx_dir / "tmp", layout.package_cache, layout.logs, layout.www):
        directory.mkdir(parents=True, exist_ok=True)
    # nginx workers (www-data) read the catalog and the cache under the state directory.
    for directory in (layout.root, layout.www, layout.package_cache.parent):
        directory.chmod(0o755)


def _start(config: LabConfig) -> None:
    layout = config.layout
    error_log = layout.logs / "nginx-error.log"
    start_log = layout.logs / "nginx-start.log"
    # nginx daemonizes itself (fork + setsid) and leaves none of our streams open.
    status = run_logged(["nginx", "-c", str(layout.nginx_conf)], start_log)
    if status != 0 or not wait_until(lambda: _listening(config), 10):
        raise LabError(
            f"nginx did not start on {config.bridge_ip}; see {start_log} and {error_log}:\n"
            f"{tail(start_log)}\n{tail(error_log)}"
        )


def _listening(config: LabConfig) -> bool:
    try:
        with socket.create_connection((config.bridge_ip, render.CACHE_PORT), timeout=1):
            return nginx_pid(config.layout) is not None
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
