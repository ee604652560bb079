"""The lab's base images: a cached mmdebstrap tarball per Debian release (12 bookworm, 13
trixie), unpacked once as the read-only lower layer of the overlays of that release's hosts.

The tarball's name carries a hash of its recipe (packages, apt sources, options and the
customize hook's source), so changing any of them builds a new image; an unchanged recipe
reuses the cached one. Packages come through the lab's package cache, so the build fills it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from libraryops.lab import imagehook
from libraryops.lab.system import LabError, mounts, require_programs, run
from libraryops.processes import tail

#: ``lab__release`` values and their Debian suites.
SUITES = {"12": "bookworm", "13": "trixie"}
VARIANT = "minbase"
PACKAGES = (
    "systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "python3", "python3-apt",
    "sudo", "iproute2", "iputils-ping", "procps", "ca-certificates", "less",
)
#: mmdebstrap options besides sources, packages and the hook (part of the recipe hash).
#: mmdebstrap's own apt cleanup runs after the customize hook and would touch the emptied lists
#: directory again, so the hook does that cleanup itself.
OPTIONS = ("--mode=root", "--format=tar", "--skip=cleanup/apt")
BUILD_TIMEOUT = 1800


@dataclass(frozen=True)
class Image:
    """One base image version.

    Attributes:
        image_id: ``<suite>-<16 hex digits of the recipe hash>``, e.g. ``bookworm-0123...``.
        tarball: the cached mmdebstrap output.
        lower: the unpacked tree used as overlay lower layer (never written).
        release: its ``lab__release`` (12 or 13).
    """

    image_id: str
    tarball: Path
    lower: Path
    release: str = "12"

    @property
    def suite(self) -> str:
        """Its Debian suite."""
        return suite(self.release)


def suite(release: str) -> str:
    """The Debian suite of a ``lab__release`` value.

    Raises:
        LabError: a release the lab does not build.
    """
    try:
        return SUITES[release]
    except KeyError:
        raise LabError(f"lab__release {release!r}: the lab builds Debian "
                       f"{' and '.join(SUITES)} (set 12 or 13)") from None


def apt_sources(cache_url: str, release: str = "12") -> list[str]:
    """One-line apt sources for the image, all through the package cache at ``cache_url``."""
    name = suite(release)
    return [
        f"deb {cache_url}/debian {name} main",
        f"deb {cache_url}/debian {name}-updates main",
        f"deb {cache_url}/debian-security {name}-security main",
    ]


def recipe_id(cache_url: str, hook_source: str, release: str = "12") -> str:
    """``<suite>-<hash>``: a hash of everything that shapes the image."""
    recipe = {
        "suite": suite(release), "variant": VARIANT, "packages": sorted(PACKAGES),
        "options": OPTIONS, "sources": apt_sources(cache_url, release), "hook": hook_source,
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    return f"{suite(release)}-{digest[:16]}"


def current_image(images_dir: Path, cache_url: str, release: str = "12") -> Image:
    """The image the current recipe names for a release (it may not be built yet)."""
    image_id = recipe_id(cache_url, Path(imagehook.__file__).read_text(), release)
    return Image(image_id, images_dir / f"{image_id}.tar", images_dir / image_id, release)


def ensure_image(images_dir: Path, cache_url: str, logs: Path,
                 release: str = "12") -> tuple[Image, str]:
    """Build the tarball and unpack the lower tree when missing; return the image and a note.

    Raises:
        LabError: mmdebstrap or tar failed (the message shows the end of the build log).
    """
    image = current_image(images_dir, cache_url, release)
    if image.lower.is_dir():
        return image, f"base image {image.image_id} cached"
    images_dir.mkdir(parents=True, exist_ok=True)
    notes = []
    if not image.tarball.is_file():
        _build(image, cache_url, logs / f"image-build-{image.suite}.log")
        notes.append("built")
    _unpack(image)
    notes.append("unpacked")
    return image, f"base image {image.image_id} {' and '.join(notes)}"


def prune_images(images_dir: Path, keep: list[Image]) -> list[str]:
    """Remove image versions other than ``keep`` that no overlay mount uses; return their ids."""
    in_use = " ".join(m.options for m in mounts() if m.fstype == "overlay")
    kept = {image.image_id for image in keep}
    removed = []
    for entry in sorted(e for name in SUITES.values() for e in images_dir.glob(f"{name}-*")):
        image_id = entry.name.split(".")[0]
        if image_id in kept or f"lowerdir={images_dir / image_id}" in in_use:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed.append(image_id)
    return sorted(set(removed))


def mmdebstrap_command(image: Image, cache_url: str, output: Path) -> list[str]:
    """The mmdebstrap command line that builds ``image`` into ``output``."""
    hook = shlex.join([sys.executable, imagehook.__file__]) + ' "$1"'
    return [
        "mmdebstrap", f"--variant={VARIANT}", *OPTIONS, "--quiet",
        f"--include={','.join(PACKAGES)}", f"--customize-hook={hook}",
        image.suite, str(output), *apt_sources(cache_url, image.release),
    ]


def _build(image: Image, cache_url: str, log: Path) -> None:
    require_programs("mmdebstrap", "tar")
    partial = image.tarball.with_name(image.tarball.name + ".partial")
    partial.unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = run(mmdebstrap_command(image, cache_url, partial), timeout=BUILD_TIMEOUT, check=False)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise LabError(
            f"mmdebstrap failed (exit {proc.returncode}); see {log}:\n{tail(log)}"
        )
    partial.rename(image.tarball)


def _unpack(image: Image) -> None:
    partial = image.lower.with_name(image.lower.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    run(
        ["tar", "--extract", "--numeric-owner", "--preserve-permissions", "--xattrs",
         "--xattrs-include=*", "--file", str(image.tarball), "--directory", str(partial)],
        timeout=600,
    )
    partial.rename(image.lower)
