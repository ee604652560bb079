"""``python -m libraryops.lab {keys,up,down,status} [--site-dir inventories/lab]``.

``down --only-these-hosts`` removes only the site directory's hosts (a molecule scenario's
throwaway hosts) and leaves the rest of the lab running.
"""

from __future__ import annotations

import argparse
import sys

from libraryops.lab import LabError, LabStatus, down, keys, status, up


def print_status(lab: LabStatus) -> None:
    """One line per host, then one line for the shared pieces."""
    for host in lab.hosts:
        state = "running" if host.running else "stopped"
        print(f"{host.name:<16} {host.address:<15} {state:<8} systemd={host.systemd}")
    nginx = f"running (pid {lab.nginx_pid})" if lab.nginx_pid else "stopped"
    printer = f"running (pid {lab.printer_pid})" if lab.printer_pid else "stopped"
    sink = f"running (pid {lab.mail_pid})" if lab.mail_pid else "stopped"
    print(f"bridge={'present' if lab.bridge else 'absent'} nginx={nginx} printer={printer} "
          f"mail={sink} "
          f"nft={'present' if lab.nft_table else 'absent'}")


def main(argv: list[str] | None = None) -> int:
    """Run one lab command; return the exit status (1 with a one-line reason on LabError)."""
    parser = argparse.ArgumentParser(prog="python -m libraryops.lab", description=__doc__)
    parser.add_argument("command", choices=["keys", "up", "down", "status"])
    parser.add_argument("--site-dir", default="inventories/lab",
                        help="the site's inventory directory (default: inventories/lab)")
    parser.add_argument("--only-these-hosts", action="store_true",
                        help="down: remove only this site directory's hosts, keep the rest")
    args = parser.parse_args(argv)
    if args.only_these_hosts and args.command != "down":
        parser.error("--only-these-hosts goes with down")
    try:
        if args.command == "status":
            print_status(status(args.site_dir))
        elif args.command == "down":
            down(args.site_dir, only_these_hosts=args.only_these_hosts)
        else:
            {"keys": keys, "up": up}[args.command](args.site_dir)
    except LabError as exc:
        print(f"lab-{args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lab-{args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
