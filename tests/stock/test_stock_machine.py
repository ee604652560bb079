"""The stock-machine path, proved in `make test`: a fresh clone on a stock Debian 12 and 13
(systemd PID 1, cgroup v2 only: libraryops.lab.stockbox boxes on this machine).

Per release, in a fresh box with the README's prerequisites and nothing else:
1. a non-root user runs `make validate SITE=example`: no root and no lab package needed;
2. `make deps-lab` (root) installs the lab's packages and leaves Debian's nginx.service off
   (its package would otherwise hold port 80 of every address);
3. tests/stock/in_box (lab up of the check's hosts, units, status, bootstrap, a reboot inside
   a host) and tests/integration/test_lab_down.py run inside the box.

The full check -- `make lab` twice and the whole lab integration in each box -- is
`make stock-check` (far longer; not part of `make test`).
"""

import pytest

from libraryops import paths
from libraryops.lab import stockbox

STATE = stockbox.state_dir()
LAB_PACKAGES = ("nginx-light", "mmdebstrap", "systemd-container", "cups-ipp-utils")


@pytest.fixture(scope="module", params=sorted(stockbox.RELEASES), ids=lambda r: f"debian{r}")
def box(request):
    """A fresh box of one release with a clone of this checkout's HEAD; removed afterwards."""
    made = stockbox.up(STATE, request.param, paths.REPO)
    yield made
    stockbox.down(STATE, [request.param])


def _in(box, script):
    return stockbox.run_in(box, script, check=False)


def _installed(box, package):
    """dpkg's own word (``-W`` alone also lists packages it merely knows of)."""
    status = _in(box, f"dpkg-query -W -f='${{Status}}' {package}").stdout
    return status == "install ok installed"


def test_controller_targets_need_neither_root_nor_lab_packages(box):
    proc = _in(box, "useradd --create-home manager && "
                    "git clone --quiet . /home/manager/libraryops && "
                    "chown -R manager: /home/manager/libraryops && "
                    "runuser -u manager -- make -C /home/manager/libraryops validate SITE=example")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for package in LAB_PACKAGES:
        assert not _installed(box, package), package


def test_deps_lab_leaves_debians_nginx_service_off(box):
    proc = _in(box, "make deps-lab")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _installed(box, "nginx-light")
    assert _in(box, "systemctl is-enabled nginx.service").stdout.strip() == "disabled"
    assert _in(box, "systemctl is-active nginx.service").stdout.strip() == "inactive"
    # deps-lab installs what the lab targets need; the unit tests' faketime is deps-unit's.
    doctor = _in(box, "python3 -m libraryops.doctor --for controller --for lab")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "hosts and daemons run as transient units" in doctor.stdout


def test_the_lab_runs_on_systemd_and_leaves_nothing(box):
    proc = _in(box, "PATH=$PWD/.venv/bin:$PATH .venv/bin/pytest -q -p no:cacheprovider "
                    "tests/stock/in_box tests/integration/test_lab_down.py")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
