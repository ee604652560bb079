"""A local stand-in for Azure Resource Manager, for the lab and the tests only.

A stateful HTTPS server on 127.0.0.1 that the *real* Azure SDK clients talk to (``base_url=`` its
URL, ``connection_verify=`` its throwaway certificate). It behaves like ARM where libraryops
depends on it, and nowhere else:

- Conditional writes as ARM does them: ``If-Match: <etag>`` on a ``PUT`` or ``DELETE`` fails
  with 412 ``PreconditionFailed`` unless the resource exists with that etag (``*``: any);
  ``If-None-Match: *`` fails with 412 when it exists. Every write gives a new etag.
- ``PUT`` replaces the resource (tags included) and answers 201 (created) or 200 (updated) with
  an absolute ``Azure-AsyncOperation`` URL that reports ``Succeeded``; it adds ``id``, ``etag``,
  ``provisioningState``, child ids, an NSG's ``defaultSecurityRules``, a public IP's address;
  it normalises ``location`` ("East US" -> "eastus") and returns references to other resources
  with the resource-group segment upper-cased, as ARM often does. A PUT referring to a resource
  that does not exist fails (400 ``InvalidResourceReference``), so dependency order matters.
- A virtual-network ``PUT`` without ``subnets`` keeps the existing subnets: the SDK here sends
  API version 2026-03-01, and since 2023-11-01 ARM leaves omitted subnets alone
  (Azure/bicep-types-az#1687). A ``PUT`` that lists subnets replaces them.
- A virtual-machine update carrying ``adminPassword`` or ``customData`` fails with 409
  ``PropertyChangeNotAllowed`` (they are create-only), and ``GET`` never returns them.
- ``GET`` a resource; lists (resource groups, resources in a group, one type in a group) as
  ``{"value": [...], "nextLink": <absolute URL>}`` pages of :data:`PAGE_SIZE`.
- ``DELETE`` answers 202 with ``Location`` (204 when absent); a resource still referenced by
  another fails with 400 ``InUseCannotBeDeleted``; deleting a group deletes its resources.
- 404 ``{"error": {"code": "ResourceNotFound" | "ResourceGroupNotFound", ...}}``; 401 without a
  bearer token; 400 without ``api-version``.

Test hooks (no token needed): ``POST /_standin/faults`` with
``{"status": 429 | 409, "count": N, "method": "PUT" | null, "after": M}`` makes N matching
requests fail, after letting M pass: 429 with ``Retry-After: 0`` (the SDK's retry policy
retries it) or 409 ``AnotherOperationInProgress`` without ``Retry-After`` (libraryops retries
it itself, as the SDK retries any answer carrying ``Retry-After``).
``GET /_standin/stats`` returns request counts per method (for benchmarks).

State (resources as JSON) lives in a directory, so separate processes see the same
subscription; the server runs detached, one per directory::

    python -m libraryops.cloud.standin {start,stop,status} --state-dir DIR [--port N] [--clear]

Files in DIR: ``resources.json``, ``endpoint.json`` (``{"url", "ca", "pid"}``), ``server.pid``,
``cert.pem``/``key.pem`` (made at every start, never committed), ``standin.log``.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import signal
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from libraryops import processes
from libraryops.cloud.arm_limits import location_key
from libraryops.cloud.arm_resources import (
    ArmError,
    Subscription,
    new_etag,
    references,
    shape,
)

#: Items per list page (small, so that ``nextLink`` paging is always exercised).
PAGE_SIZE = 2
#: Its module, run as ``python -m``: the mark of its processes' command lines.
MARKER = "libraryops.cloud.standin"
#: Files the stand-in owns in its state directory (``stop --clear`` removes exactly these).
FILES = ("resources.json", "endpoint.json", "server.pid", "cert.pem", "key.pem", "standin.log")


class Handler(BaseHTTPRequestHandler):
    """One request against the stand-in (see the module docstring for the surface)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls
    server: StandinServer

    # -- plumbing -----------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Log to ``standin.log`` (request line and status only; never headers)."""
        self.server.log.write(f"{self.log_date_time_string()} {format % args}\n")
        self.server.log.flush()

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.raw or b"{}")
        except json.JSONDecodeError:
            raise ArmError(400, "InvalidRequestContent", "The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request body must be an object.")
        return body

    def _dispatch(self) -> None:
        # read the body first, even for answers that ignore it: the connection is kept alive
        self.raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        segs = [s for s in url.path.split("/") if s]
        try:
            if segs[:1] == ["_standin"]:
                self._hook(segs[1:])
                return
            self.server.count(self.command)
            fault = self.server.take_fault(self.command)
            if fault == 429:
                raise ArmError(429, "TooManyRequests", "Rate limit reached (injected).")
            if fault == 409:
                raise ArmError(409, "AnotherOperationInProgress",
                               "Another operation on this or dependent resource is in progress.")
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                raise ArmError(401, "AuthenticationFailed", "No bearer token.")
            if "api-version" not in query:
                raise ArmError(400, "MissingApiVersionParameter", "api-version is required.")
            with self.server.subscription.lock:  # one request at a time changes or reads state
                self._resource(url.path, segs, query)
        except ArmError as exc:
            headers = {"Retry-After": "0"} if exc.status == 429 else {}
            self._send(exc.status, {"error": {"code": exc.code, "message": exc.message}}, headers)

    do_GET = do_PUT = do_DELETE = do_POST = _dispatch

    # -- test hooks and operations ------------------------------------------------------------

    def _hook(self, segs: list[str]) -> None:
        if segs[:1] == ["operations"] and self.command == "GET":
            self._send(200, {"id": segs[-1], "status": "Succeeded"})
        elif segs == ["faults"] and self.command == "POST":
            body = self._body()
            status = body.get("status")
            if status not in (409, 429):
                raise ArmError(400, "InvalidFault", "status must be 409 or 429")
            self.server.add_fault(status, int(body.get("count", 1)), body.get("method"),
                                  int(body.get("after", 0)))
            self._send(200, {"queued": self.server.faults})
        elif segs == ["stats"] and self.command == "GET":
            self._send(200, {"requests": dict(self.server.requests)})
        else:
            raise ArmError(404, "NotFound", f"No test hook {self.command} {self.path}")

    def _operation_headers(self, header: str) -> dict[str, str]:
        return {header: f"{self.server.url}/_standin/operations/{uuid.uuid4()}?api-version=1",
                "Retry-After": "0"}

    # -- resources ----------------------------------------------------------------------------

    def _resource(self, path: str, segs: list[str], query: dict[str, list[str]]) -> None:
        lower = [s.lower() for s in segs]
        if len(segs) < 3 or lower[0] != "subscriptions" or lower[2] != "resourcegroups":
            raise ArmError(404, "NotFound", f"The stand-in does not serve {path}.")
        sub = self.server.subscription
        if len(segs) == 3 and self.command == "GET":
            mine = f"/subscriptions/{segs[1]}/".lower()
            self._page(path, query, [r for key, r in sub.items.items() if key.startswith(mine)
                                     and r["type"] == "Microsoft.Resources/resourceGroups"])
            return
        rg_id = f"/subscriptions/{segs[1]}/resourceGroups/{segs[3]}"
        rg = sub.get(rg_id)
        if len(segs) == 4:
            self._item(rg_id, "Microsoft.Resources/resourceGroups", segs[3], None)
            return
        if rg is None:
            raise ArmError(404, "ResourceGroupNotFound",
                           f"Resource group '{segs[3]}' could not be found.")
        prefix = rg["id"].lower() + "/providers/"
        if len(segs) == 5 and lower[4] == "resources" and self.command == "GET":
            listed = [{k: r[k] for k in ("id", "name", "type", "location", "tags") if k in r}
                      for key, r in sub.items.items() if key.startswith(prefix)]
            self._page(path, query, listed)
        elif len(segs) == 7 and lower[4] == "providers" and self.command == "GET":
            rtype = f"{segs[5]}/{segs[6]}".lower()
            self._page(path, query, [r for key, r in sub.items.items()
                                     if key.startswith(prefix) and r["type"].lower() == rtype])
        elif len(segs) == 8 and lower[4] == "providers":
            rid = f"{rg['id']}/providers/{segs[5]}/{segs[6]}/{segs[7]}"
            self._item(rid, f"{segs[5]}/{segs[6]}", segs[7], rg)
        else:
            raise ArmError(404, "NotFound", f"The stand-in does not serve {path}.")

    def _page(self, path: str, query: dict[str, list[str]], items: list[dict[str, Any]]) -> None:
        start = int(query.get("$skiptoken", ["0"])[0])
        body: dict[str, Any] = {"value": sorted(items, key=lambda r: r["id"].lower())
                                [start:start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(items):
            version = query["api-version"][0]
            body["nextLink"] = (f"{self.server.url}{path}?api-version={version}"
                                f"&$skiptoken={start + PAGE_SIZE}")
        self._send(200, body)

    def _precondition(self, current: dict[str, Any] | None) -> None:
        """Refuse a write whose ``If-Match`` / ``If-None-Match`` does not hold, as ARM does."""
        match, none_match = self.headers.get("If-Match"), self.headers.get("If-None-Match")
        stale = match is not None and (current is None or match not in ("*", current.get("etag")))
        if stale or (none_match == "*" and current is not None):
            raise ArmError(412, "PreconditionFailed",
                           "The condition specified using HTTP conditional header(s) is not met.")

    def _item(self, rid: str, rtype: str, name: str, rg: dict[str, Any] | None) -> None:
        current = self.server.subscription.get(rid)
        if self.command in ("PUT", "DELETE"):
            self._precondition(current)
        if self.command == "GET":
            if current is None and rg is None:
                raise ArmError(404, "ResourceGroupNotFound",
                               f"Resource group '{name}' could not be found.")
            if current is None:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource '{rtype}/{name}' was not found.")
            self._send(200, current)
        elif self.command == "PUT":
            stored = self._put(rid, rtype, name, current)
            headers = {} if rg is None else self._operation_headers("Azure-AsyncOperation")
            self._send(200 if current else 201, stored, headers)
        elif self.command == "DELETE":
            if current is None:
                self._send(204)
                return
            self._delete(current)
            self._send(202, None, self._operation_headers("Location"))
        else:
            raise ArmError(405, "MethodNotAllowed", f"{self.command} is not supported.")

    def _put(self, rid: str, rtype: str, name: str, current: dict[str, Any] | None):
        sub = self.server.subscription
        body = self._body()
        if not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required.")
        if current is not None:
            rid = current["id"]  # ARM keeps the casing of the first PUT
        stored = {k: body[k] for k in ("sku", "zones", "identity", "plan") if k in body}
        stored.update(id=rid, name=current["name"] if current else name, type=rtype,
                      location=location_key(body["location"]), tags=body.get("tags") or {},
                      properties=body.get("properties") or {})
        if "sku" in stored and rtype.lower().endswith("publicipaddresses"):
            stored["sku"].setdefault("tier", "Regional")
        if rtype != "Microsoft.Resources/resourceGroups":
            stored["etag"] = new_etag()
            shape(rtype, rid, stored["properties"], current)
        else:
            stored["properties"] = {"provisioningState": "Succeeded"}
        missing = [ref for ref in references(stored["properties"]) if not sub.exists(ref)]
        if missing:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {missing[0]} referenced by {rid} was not found.")
        sub.items[rid.lower()] = stored
        sub.save()
        return stored

    def _delete(self, current: dict[str, Any]) -> None:
        sub = self.server.subscription
        rid = current["id"].lower()
        if current["type"] == "Microsoft.Resources/resourceGroups":
            for key in [k for k in sub.items if k == rid or k.startswith(rid + "/")]:
                del sub.items[key]
        else:
            users = sub.referrers(rid)
            if users:
                raise ArmError(400, "InUseCannotBeDeleted",
                               f"{current['id']} is in use by {users[0]} and cannot be deleted.")
            del sub.items[rid]
        sub.save()


class StandinServer(ThreadingHTTPServer):
    """The HTTPS server: a subscription, a fault queue and request counters."""

    daemon_threads = True

    def __init__(self, state_dir: Path, port: int):
        super().__init__(("127.0.0.1", port), Handler)
        self.subscription = Subscription(state_dir / "resources.json")
        self.url = f"https://127.0.0.1:{self.server_address[1]}"
        self.log = (state_dir / "standin.log").open("a", encoding="utf-8")
        self.faults: list[dict[str, Any]] = []
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()

    def add_fault(self, status: int, count: int, method: str | None, after: int = 0) -> None:
        """Fail ``count`` requests with ``method`` (any if None), after letting ``after`` pass."""
        with self._lock:
            self.faults.append({"status": status, "count": count, "method": method,
                                "after": after})

    def take_fault(self, method: str) -> int | None:
        """The status to fail this request with, or None (consumes one queued failure)."""
        with self._lock:
            for fault in self.faults:
                if fault["method"] in (None, method):
                    if fault["after"] > 0:
                        fault["after"] -= 1
                        return None
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault["status"]
        return None

    def count(self, method: str) -> None:
        """Count one request (``GET /_standin/stats``)."""
        with self._lock:
            self.requests[method] = self.requests.get(method, 0) + 1


def _write_certificate(state_dir: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (its own CA): (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libraryops ARM stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = state_dir / "cert.pem", state_dir / "key.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def serve(state_dir: Path, port: int = 0) -> None:
    """Run the server in this process until SIGTERM/SIGINT (what ``start`` runs detached)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert, key = _write_certificate(state_dir)
    server = StandinServer(state_dir, port)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    endpoint = {"url": server.url, "ca": str(cert), "pid": os.getpid()}
    tmp = state_dir / "endpoint.tmp"
    tmp.write_text(json.dumps(endpoint))
    os.replace(tmp, state_dir / "endpoint.json")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.log.close()


def daemon(state_dir: Path | str, port: int = 0) -> processes.Daemon:
    """The stand-in of ``state_dir`` as a daemon (``serve`` in the foreground, on ``port`` of
    127.0.0.1, 0: a free one), whoever runs it: :func:`start` detached, or the lab's owner."""
    state_dir = Path(state_dir)
    return processes.Daemon(
        name="arm", argv=(sys.executable, "-m", MARKER, "serve", "--state-dir", str(state_dir),
                          "--port", str(port)),
        log=state_dir / "standin.log", pidfile=state_dir / "server.pid", marker=MARKER)


def status(state_dir: Path) -> dict[str, Any] | None:
    """``{"url", "ca", "pid"}`` of the stand-in running for ``state_dir``, or None."""
    try:
        endpoint = json.loads((Path(state_dir) / "endpoint.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    alive = MARKER in " ".join(processes.process_cmdline(int(endpoint["pid"])))
    return endpoint if alive else None


def start(state_dir: Path | str, port: int = 0, timeout: float = 15) -> tuple[str, str, int]:
    """Start the stand-in detached (idempotent: an already running one is reused).

    Args:
        state_dir: its state directory (created if missing).
        port: TCP port on 127.0.0.1; 0 picks a free one.
        timeout: seconds to wait for it to listen.

    Returns:
        (url, ca_path, pid), e.g. ("https://127.0.0.1:40123", "<dir>/cert.pem", 4242).

    Raises:
        DaemonError: it did not come up (it is stopped; the message carries its log's tail).
    """
    state_dir = Path(state_dir).resolve()
    running = status(state_dir)
    if running is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "endpoint.json").unlink(missing_ok=True)
        processes.start_and_wait(daemon(state_dir, port), lambda: status(state_dir) is not None,
                                 timeout, f"the ARM stand-in did not start in {state_dir}")
        running = status(state_dir)
    return running["url"], running["ca"], running["pid"]


def stop(state_dir: Path | str, clear: bool = False) -> bool:
    """Stop the stand-in of ``state_dir`` (if running: its whole process group); with
    ``clear``, remove its files too.

    Returns:
        True if a running stand-in was stopped.
    """
    state_dir = Path(state_dir)
    stopped = processes.stop(daemon(state_dir))
    for name in ("endpoint.json", *(FILES if clear else ())):
        (state_dir / name).unlink(missing_ok=True)
    if clear and state_dir.is_dir() and not any(state_dir.iterdir()):
        state_dir.rmdir()
    return stopped


def main(argv: list[str] | None = None) -> int:
    """CLI (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.cloud.standin")
    parser.add_argument("command", choices=["start", "stop", "status", "serve"])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--clear", action="store_true", help="stop: also remove its state")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.state_dir, args.port)
    elif args.command == "start":
        try:
            url, _, pid = start(args.state_dir, args.port)
        except processes.DaemonError as exc:
            print(f"ARM stand-in: error: {exc}", file=sys.stderr)
            return 1
        print(f"ARM stand-in: {url} (pid {pid}, state {args.state_dir})")
    elif args.command == "stop":
        stopped = stop(args.state_dir, clear=args.clear)
        print(f"ARM stand-in: {'stopped' if stopped else 'not running'}"
              f"{'; state cleared' if args.clear else ''}")
    else:
        running = status(args.state_dir)
        print(f"ARM stand-in: {running['url']} (pid {running['pid']})" if running
              else "ARM stand-in: not running")
        return 0 if running else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
