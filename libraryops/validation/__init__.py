"""``make validate``: the whole site checked before any engine runs, one module per concern.

:mod:`~libraryops.validation.base` (a problem line, one way to fail, the site as written and as
merged) imports nothing of this package; :mod:`~libraryops.validation.files` parses the files,
:mod:`~libraryops.validation.values` holds the value types several concerns share, each other
module holds one concern's model and checks (hosts, accounts, branches, public PCs, names,
scopes, hours, sshd, firewall, updates, timesync, staff machines, wireless, stored secrets,
Azure), and :mod:`~libraryops.validation.run` lists them and is the command
(``python -m libraryops.validation <site-dir>``). Each module's tests are
``tests/unit/validation/test_<module>.py``.
"""
