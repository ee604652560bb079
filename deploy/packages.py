"""Package installs shared by the public-PC deploys: lock-patient, no recommends."""

from pyinfra.operations import apt

#: Wait for another apt/dpkg (a first-boot apt-daily run) instead of failing: apt.conf(5)
#: ``DPkg::Lock::Timeout``, in seconds.
_APT_ARGS = "-o DPkg::Lock::Timeout=600"
#: Refresh the package index when it is older than this (seconds). Within the window a
#: re-converge changes nothing; past it the refresh shows as one change.
INDEX_MAX_AGE = 6 * 3600


def refresh_index() -> None:
    """Refresh the apt index once per converge, at most every :data:`INDEX_MAX_AGE` seconds."""
    apt.update(name="Refresh the package index", cache_time=INDEX_MAX_AGE)


def install(name: str, packages: list[str]) -> None:
    """Install Debian ``packages`` without recommends (small, predictable public PCs).

    Args:
        name: the operation's name in pyinfra's output.
        packages: Debian package names.
    """
    apt.packages(name=name, packages=packages, no_recommends=True, extra_install_args=_APT_ARGS)
