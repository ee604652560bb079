"""Public PCs: the patron kiosk. Run by `make lab` / `make deploy` with --limit public_pcs."""

from pyinfra import host, state

from deploy.browser import firefox_policies
from deploy.patron import patron_account
from libraryops.report import record_pyinfra_changes

record_pyinfra_changes(state)

if "public_pcs" in host.groups:
    patron_account()
    firefox_policies()
