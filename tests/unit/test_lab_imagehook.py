"""The image customize hook's file changes, on a fake root tree."""

import os

from libraryops.lab import imagehook


def make_root(tmp_path):
    for directory in ("etc/ssh", "var/lib/apt/lists/partial", "var/lib/apt/lists/auxfiles"):
        (tmp_path / directory).mkdir(parents=True)
    for name in ("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "sshd_config"):
        (tmp_path / "etc/ssh" / name).write_text("x")
    for name in ("etc/hostname", "etc/resolv.conf", "etc/machine-id",
                 "var/lib/apt/lists/lock", "var/lib/apt/lists/deb_InRelease",
                 "var/lib/apt/lists/partial/half", "var/lib/apt/lists/auxfiles/a"):
        (tmp_path / name).write_text("x")
    return tmp_path


def test_prepare_files(tmp_path):
    root = make_root(tmp_path)
    imagehook.prepare_files(root)
    assert sorted(p.name for p in (root / "etc/ssh").iterdir()) == ["sshd_config"]
    drop_in = (root / "etc/systemd/system/ssh.service.d/10-lab-host-keys.conf").read_text()
    assert "ExecStartPre=/usr/bin/ssh-keygen -A" in drop_in
    assert drop_in.index("ssh-keygen -A") < drop_in.index("sshd -t")
    nm = (root / "etc/NetworkManager/conf.d/10-lab-unmanaged-host0.conf").read_text()
    assert "unmanaged-devices=interface-name:host0" in nm
    assert (root / "etc/machine-id").read_text() == ""
    assert not (root / "etc/hostname").exists()
    assert not (root / "etc/resolv.conf").exists()
    lists = root / "var/lib/apt/lists"
    assert sorted(p.name for p in lists.iterdir()) == ["lock", "partial"]
    assert list((lists / "partial").iterdir()) == []
    assert os.stat(lists).st_mtime == 0


def test_apt_daily_timers_are_not_masked():
    assert not any(unit.startswith("apt-daily") for unit in imagehook.MASKED_UNITS)
    assert "console-getty.service" in imagehook.MASKED_UNITS
