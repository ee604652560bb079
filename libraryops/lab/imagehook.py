"""mmdebstrap customize hook for the lab's base image (stdlib only; runs as a script).

``python imagehook.py ROOT`` prepares the unpacked image at ROOT to boot as many throwaway
hosts under systemd-nspawn (the recipe in the lab notes): every host makes its own SSH host
keys, networkd configures the ``host0`` link, units that make no sense in a container are
masked (the apt-daily timers are left alone: the update role owns their schedule), machine-id,
hostname and resolv.conf are left for each host, NetworkManager never manages ``host0``, and
the emptied apt lists directory gets an epoch mtime so ``cache_valid_time`` checks update it.
The image's hash includes this file: editing it rebuilds the image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Units masked in the image.
MASKED_UNITS = (
    "e2scrub_all.timer",
    "e2scrub_all.service",
    "e2scrub_reap.service",
    "e2scrub@.service",
    "e2scrub_fail@.service",
    "dpkg-db-backup.timer",
    "console-getty.service",
)
#: ssh.service drop-in: make host keys before the vendor's ``sshd -t`` check needs them.
SSH_DROP_IN = (
    "[Service]\n"
    "ExecStartPre=\n"
    "ExecStartPre=/usr/bin/ssh-keygen -A\n"
    "ExecStartPre=/usr/sbin/sshd -t\n"
)
NM_UNMANAGED = "[keyfile]\nunmanaged-devices=interface-name:host0\n"


def prepare_files(root: Path) -> None:
    """The file-level changes (run after :func:`configure_in_chroot`: the apt lists go last)."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    _write(root / "etc/systemd/system/ssh.service.d/10-lab-host-keys.conf", SSH_DROP_IN)
    _write(root / "etc/NetworkManager/conf.d/10-lab-unmanaged-host0.conf", NM_UNMANAGED)
    _write(root / "etc/machine-id", "")
    for name in ("etc/hostname", "etc/resolv.conf"):
        (root / name).unlink(missing_ok=True)
    _empty_apt_lists(root / "var/lib/apt/lists")


def configure_in_chroot(root: Path) -> None:
    """With the image's own tools: enable systemd-networkd, mask :data:`MASKED_UNITS`, and
    empty apt's package cache (mmdebstrap's apt cleanup is skipped, see ``image.OPTIONS``)."""
    chroot = ["chroot", str(root)]
    subprocess.run([*chroot, "systemctl", "--quiet", "enable", "systemd-networkd.service"],
                   check=True)
    subprocess.run([*chroot, "systemctl", "--quiet", "mask", *MASKED_UNITS], check=True)
    subprocess.run([*chroot, "apt-get", "clean"], check=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)


def _empty_apt_lists(lists: Path) -> None:
    """Delete the downloaded package lists (keep ``lock`` and ``partial/``), mtime = epoch."""
    for entry in lists.iterdir():
        if entry.name == "partial":
            for leftover in entry.iterdir():
                leftover.unlink()
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.name != "lock":
            entry.unlink()
    os.utime(lists, (0, 0))


def main(argv: list[str]) -> int:
    """Entry point for mmdebstrap: ``imagehook.py ROOT``."""
    root = Path(argv[0])
    configure_in_chroot(root)
    prepare_files(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
