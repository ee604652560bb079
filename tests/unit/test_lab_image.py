"""The base image recipe: its hash, sources and mmdebstrap command line (no build)."""

from pathlib import Path

from libraryops.lab import image

CACHE = "http://10.123.0.1:3142"


def test_sources_all_go_through_the_cache():
    assert image.apt_sources(CACHE) == [
        "deb http://10.123.0.1:3142/debian bookworm main",
        "deb http://10.123.0.1:3142/debian bookworm-updates main",
        "deb http://10.123.0.1:3142/debian-security bookworm-security main",
    ]


def test_recipe_id_is_stable_and_changes_with_the_recipe():
    first = image.recipe_id(CACHE, "hook v1")
    assert first == image.recipe_id(CACHE, "hook v1")
    assert first.startswith("bookworm-") and len(first) == len("bookworm-") + 16
    assert image.recipe_id(CACHE, "hook v2") != first
    assert image.recipe_id("http://10.9.0.1:3142", "hook v1") != first


def test_mmdebstrap_command():
    base = image.current_image(Path("/state/images"), CACHE)
    argv = image.mmdebstrap_command(base, CACHE, Path("/state/images/x.tar.partial"))
    assert argv[0] == "mmdebstrap"
    assert "--format=tar" in argv  # the output name does not end in .tar
    assert "--variant=minbase" in argv
    include = next(a for a in argv if a.startswith("--include="))
    for package in ("systemd-sysv", "openssh-server", "python3-apt", "sudo", "dbus"):
        assert package in include.split("=", 1)[1].split(",")
    hook = next(a for a in argv if a.startswith("--customize-hook="))
    assert hook.endswith('imagehook.py "$1"')
    assert argv[-4:] == ["/state/images/x.tar.partial", *image.apt_sources(CACHE)]


def test_current_image_names_tarball_and_lower_dir_by_recipe():
    base = image.current_image(Path("/state/images"), CACHE)
    assert base.tarball == Path(f"/state/images/{base.image_id}.tar")
    assert base.lower == Path(f"/state/images/{base.image_id}")


def test_each_release_has_its_own_image_and_sources():
    trixie = image.current_image(Path("/state/images"), CACHE, "13")
    assert trixie.image_id.startswith("trixie-") and trixie.suite == "trixie"
    assert trixie.image_id != image.current_image(Path("/state/images"), CACHE, "12").image_id
    argv = image.mmdebstrap_command(trixie, CACHE, Path("/x.partial"))
    assert argv[-5:] == ["trixie", "/x.partial", *image.apt_sources(CACHE, "13")]
    assert image.apt_sources(CACHE, "13")[2] == (
        "deb http://10.123.0.1:3142/debian-security trixie-security main")
