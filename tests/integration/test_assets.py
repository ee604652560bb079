"""``make assets`` on the converged lab: every host reports itself, nothing on a host changes,
the register keeps first-seen dates, and the report lists every host.
"""

import json
import subprocess

from libraryops import assets, paths
from libraryops.inventory import load_site

LAB = paths.INVENTORIES / "lab"


def _make_assets() -> str:
    proc = subprocess.run(["make", "-s", "assets", "SITE=lab"], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_make_assets_registers_every_lab_host_read_only():
    site = load_site(LAB)
    _make_assets()
    stats = json.loads((paths.REPORTS / "lab" / "ansible-assets.json").read_text())
    assert sorted(stats) == sorted(site.hosts)
    assert all(s["changed"] == 0 and s["failures"] == 0 and s["unreachable"] == 0
               for s in stats.values()), stats
    register = assets.load_register(LAB)
    assert sorted(register) == sorted(site.hosts)
    for host, record in register.items():
        # What the host's own release files say, against the release the lab booted it from.
        assert record["os"]["version"] == str(site.hosts[host]["lab__release"]), host
        assert record["memory_mb"] > 0 and record["cpu"]["cores"] > 0
        assert record["serial"] == "unknown"  # containers have no firmware of their own
    first_seen = {h: r["first_seen"] for h, r in register.items()}

    output = _make_assets()
    assert "0 host file(s) updated" in output  # the same facts on the same day
    assert {h: r["first_seen"] for h, r in assets.load_register(LAB).items()} == first_seen
    html = (paths.REPORTS / "lab" / "assets" / "assets.html").read_text()
    for host in site.hosts:
        assert f"<td>{host}</td>" in html
    snipeit = (paths.REPORTS / "lab" / "assets" / "snipeit.csv").read_text().splitlines()
    assert len(snipeit) == 1 + len(site.hosts)
