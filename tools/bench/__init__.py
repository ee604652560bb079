"""``make bench``: measured speed of converging and verifying public PCs, pyinfra against Ansible.

``python -m tools.bench [--hosts "2 5 10"] [--repeat 3] [--noop-only] [--budget-minutes 35]
[--report-dir DIR]``

A benchmark, not a test: nothing here asserts a timing. It brings up throwaway kiosk hosts of
its own on the lab bridge (``bench-pub-NN`` from 10.123.0.150, ``bench-ans-01/02`` at .168/.169,
from a generated inventory in a temporary directory that copies the lab site's ``all``,
``branch_main`` and ``public_pcs`` group_vars), adds them to the running lab with
``python -m libraryops.lab up`` and removes exactly them at the end, however the run ends
(``down --only-these-hosts``). The lab's own hosts are never contacted.

What is measured (wall-clock seconds, median and min–max of ``--repeat`` runs; every run is
started cold: no SSH master connection to the bench hosts is left open before it):

- ``cold``: the pyinfra public-PC deploy (``deploy/public_pc.py``, run exactly as the pipeline
  runs it) on two fresh hosts, once, with the lab's warm package cache; and the same work as an
  Ansible playbook (``tools/bench/public_pc.yml``) on two other fresh hosts, once. The
  Ansible-converged hosts then get the public-PC testinfra suites (the proof that the playbook
  does the same work) and a pyinfra run that must change nothing on them;
- ``baseline``: Ansible's ``playbooks/site.yml`` (the roles every Linux host gets) on the same
  two pyinfra-converged hosts, cold, once, then its no-op at every N beside the deploy's (the
  daily case of every host; the smoke leaves it out: it would add minutes to the integration
  suite);
- ``noop``: the re-converge that changes nothing (the daily case), by both engines, at every N.
  Hosts beyond the first two are copies of a pyinfra-converged host's disk (its overlay layer,
  copied before they boot), so a large N costs seconds to set up, not a converge; every no-op
  run's change count is recorded and must be 0 (Ansible's runs over pyinfra-converged hosts
  are therefore also a drift check between the two);
- ``verify-serial`` / ``verify-xdist``: ``make verify``'s testinfra run of the public-PC suites
  (``tests/testinfra/test_public_pc.py``, ``test_power.py``), serial and with pytest-xdist
  ``-n 4`` (``make verify``'s default);
- ``floor-cm-off`` / ``floor-cm-on``: one trivial SSH command (``true``) to every host in
  parallel with OpenSSH and the lab's ssh config, ControlMaster off (a new connection per host:
  the floor the engines' ratios use) and on (over a master opened beforehand);
- ``azure-plan``: the Azure plan of a generated 50-resource spec against a private ARM stand-in
  (its own state directory, loopback only), after one apply; with the HTTP requests per plan.

Order: the cold converges first; then all hosts of the largest N are up and each repetition
goes over the engines at every N, then the verify runs at every N, before the next one starts,
so that the machine's noise spreads evenly over engines and counts. A repetition that would
overrun the time budget
(``--budget-minutes``, default 35, so that the default run ends within 36 minutes on a 2-core
machine) is skipped, never the first one; the report counts the skipped runs.

Peak memory: the resident set (RSS, MiB) of the controller's whole process tree, sampled from
``/proc`` every 0.1 s (a shared page counts in every process that maps it, so forked engines
-- Ansible's workers, xdist's -- read high).

The table (engine × phase × N → median s, min–max, ratio to the floor, pyinfra/Ansible ratio)
is printed and written to ``<report-dir>/bench-<date>.md`` and ``.json``, with issue 18's goals
(:func:`tools.bench.report.goals`): each figure, met or not. ``--noop-only``
(``make bench-smoke``) skips the cold converges and the Ansible proof: the first two hosts are
converged by pyinfra without being measured. Exit status: 0, or 1 when a run failed, a no-op
run changed something or the Ansible equivalent failed the suites (the report says which).
"""
