"""What each host runs: every engine that manages it recorded the commit this check runs from
(role converged, deploy/record.py). A host that is behind is named with the commit it runs; the
catch-up runs bring it (docs/catch-up.md)."""

import datetime as dt
import json

from libraryops import revision
from libraryops.catchup import ENGINES, RECORD_DIR

testinfra_hosts = ["ansible://all"]


def test_every_engine_recorded_the_commit_this_check_runs_from(host, inventory_vars):
    expected = revision.current()
    groups = inventory_vars["group_names"]
    engines = next((e for group, e in ENGINES.items() if group in groups), ("ansible",))
    for engine in engines:
        record = host.file(f"{RECORD_DIR}/{engine}.json")
        assert (record.user, record.group, record.mode) == ("root", "root", 0o644), engine
        data = json.loads(record.content_string)
        assert data["commit"] == expected, (
            f"{engine} converged this host from {data['commit'][:12]}, this checkout is "
            f"{expected[:12]}: behind (make catch-up brings it)")
        since = dt.datetime.fromisoformat(data["since"].replace("Z", "+00:00"))
        assert since <= dt.datetime.now(dt.UTC)
